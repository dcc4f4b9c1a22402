"""Sky-appropriate random augmentations of cutout batches, vectorised on the device.

Galaxies have no "up", so any rotation and a mirror flip are symmetries; a few
pixels of centring error, a slightly different distance (zoom), a different PSF
(blur), depth (noise) and calibration (small per-band flux scaling) are nuisances
the representation should ignore. Colour jitter, which breaks physical colours, is
deliberately absent.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SkyAugment"]


def _uniform(
    shape: tuple[int, ...], low: float, high: float,
    generator: torch.Generator | None, device: torch.device,
) -> torch.Tensor:
    """Uniform draws on ``device``, taken from ``generator`` (on its own device) when given."""
    if generator is not None:
        u = torch.rand(shape, generator=generator, device=generator.device).to(device)
    else:
        u = torch.rand(shape, device=device)
    return low + (high - low) * u


def _normal(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    if generator is not None:
        return torch.randn(shape, generator=generator, device=generator.device).to(device)
    return torch.randn(shape, device=device)


class SkyAugment(nn.Module):
    """Random rotations, flips, shifts, zoom, PSF-like blur, noise and flux scaling.

    Every image of a batch gets its own random parameters; all work is batched
    tensor operations (``affine_grid``/``grid_sample``, a grouped separable
    convolution), so it runs on whatever device the batch is on.

    Parameters
    ----------
    rotate : bool
        Rotate by a uniform angle in [0, 2 pi).
    flip : bool
        Mirror (left-right) with probability 1/2; with rotation this covers all flips.
    max_shift : float
        Largest shift along each axis, pixels (uniform in ``[-max_shift, max_shift]``).
    zoom : (float, float)
        Range of the magnification factor (> 1 enlarges the object).
    blur_sigma : (float, float)
        Range of the Gaussian blur sigma, pixels.
    blur_p : float
        Probability that an image is blurred at all.
    noise_std : (float, float)
        Range of the standard deviation of the added Gaussian noise, in the units of
        the input pixels.
    flux_scale : float
        Each band of each image is multiplied by ``1 + u``, ``u`` uniform in
        ``[-flux_scale, flux_scale]`` (calibration uncertainty; colours change by at
        most that much).
    padding_mode : {"reflection", "zeros", "border"}
        How pixels brought in from outside the cutout are filled. ``"reflection"``
        continues the sky texture; ``"zeros"`` suits background-subtracted data whose
        noise is added back by ``noise_std``.

    Notes
    -----
    Apply it to pixels that are linear in flux (e.g. in units of the sky noise),
    so that blur, noise and flux scaling act as they would on the sky.
    ``forward(x, generator)``: ``(B, C, H, W) -> (B, C, H, W)``, same dtype and device.
    """

    def __init__(
        self,
        rotate: bool = True,
        flip: bool = True,
        max_shift: float = 3.0,
        zoom: tuple[float, float] = (0.9, 1.1),
        blur_sigma: tuple[float, float] = (0.0, 1.0),
        blur_p: float = 0.5,
        noise_std: tuple[float, float] = (0.0, 0.1),
        flux_scale: float = 0.1,
        padding_mode: str = "reflection",
    ) -> None:
        super().__init__()
        if padding_mode not in ("reflection", "zeros", "border"):
            raise ValueError(
                f"padding_mode must be 'reflection', 'zeros' or 'border', not {padding_mode!r}"
            )
        if min(zoom) <= 0 or min(blur_sigma) < 0 or min(noise_std) < 0 or max_shift < 0:
            raise ValueError("zoom must be positive; blur_sigma, noise_std and max_shift non-negative")
        if not 0.0 <= flux_scale < 1.0 or not 0.0 <= blur_p <= 1.0:
            raise ValueError("flux_scale must be in [0, 1) and blur_p in [0, 1]")
        self.rotate, self.flip, self.max_shift = rotate, flip, float(max_shift)
        self.zoom = (float(zoom[0]), float(zoom[1]))
        self.blur_sigma = (float(blur_sigma[0]), float(blur_sigma[1]))
        self.blur_p = float(blur_p)
        self.noise_std = (float(noise_std[0]), float(noise_std[1]))
        self.flux_scale = float(flux_scale)
        self.padding_mode = padding_mode

    def config(self) -> dict:
        """The settings as a plain dict (for an Embedding's ``config``)."""
        return {
            "rotate": self.rotate, "flip": self.flip, "max_shift": self.max_shift,
            "zoom": list(self.zoom), "blur_sigma": list(self.blur_sigma), "blur_p": self.blur_p,
            "noise_std": list(self.noise_std), "flux_scale": self.flux_scale,
            "padding_mode": self.padding_mode,
        }

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config().items())

    def sample_params(
        self, n: int, n_bands: int, device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Draw per-image parameters for ``n`` images of ``n_bands`` bands.

        Returns
        -------
        dict
            ``angle`` (n,) radians, ``flip`` (n,) of +-1, ``zoom`` (n,),
            ``shift`` (n, 2) pixels as (x, y), ``sigma`` (n,) pixels (0 = no blur),
            ``noise`` (n,) noise std, ``flux`` (n, n_bands) multiplicative factors.
            Always drawn in this order, so a seeded generator gives the same stream.
        """
        device = torch.device(device)

        def u(shape: tuple[int, ...], lo: float, hi: float) -> torch.Tensor:
            return _uniform(shape, lo, hi, generator, device)

        angle = u((n,), 0.0, 2 * math.pi)
        flip = torch.where(u((n,), 0.0, 1.0) < 0.5, -1.0, 1.0)
        zoom = u((n,), *self.zoom)
        shift = u((n, 2), -self.max_shift, self.max_shift)
        sigma = torch.where(u((n,), 0.0, 1.0) < self.blur_p, u((n,), *self.blur_sigma), 0.0)
        noise = u((n,), *self.noise_std)
        flux = u((n, n_bands), 1.0 - self.flux_scale, 1.0 + self.flux_scale)
        if not self.rotate:
            angle = torch.zeros_like(angle)
        if not self.flip:
            flip = torch.ones_like(flip)
        return {"angle": angle, "flip": flip, "zoom": zoom, "shift": shift,
                "sigma": sigma, "noise": noise, "flux": flux}

    def _warp(self, x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rotate, flip, zoom and shift with one bilinear resampling."""
        b, _, h, w = x.shape
        cos, sin = torch.cos(p["angle"]), torch.sin(p["angle"])
        f, s = p["flip"], p["zoom"]
        # Map from output to input pixel offsets (x, y): M = R(angle) @ diag(flip, 1) / zoom.
        m = torch.stack([torch.stack([cos * f, -sin], -1), torch.stack([sin * f, cos], -1)], -2)
        m = m / s[:, None, None]
        # affine_grid works in [-1, 1] coordinates per axis; convert so that rotations
        # stay rotations on non-square cutouts: theta = D^-1 M D, D = diag(W/2, H/2).
        half = torch.tensor([w / 2.0, h / 2.0], device=x.device, dtype=m.dtype)
        theta = torch.empty(b, 2, 3, device=x.device, dtype=m.dtype)
        theta[:, :, :2] = m * half[None, None, :] / half[None, :, None]
        theta[:, :, 2] = p["shift"] / half
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(
            x, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=False
        )

    def _blur(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """Separable Gaussian blur with a different sigma (pixels) per image."""
        b, c, h, w = x.shape
        radius = math.ceil(3.0 * self.blur_sigma[1])
        taps = torch.arange(-radius, radius + 1, device=x.device, dtype=torch.float32)
        # sigma = 0 gives a delta kernel (exp(-t^2 / tiny) is 0 except at t = 0).
        var = 2.0 * sigma.clamp_min(1e-6).to(x.device, torch.float32)[:, None] ** 2
        kernel = torch.exp(-taps[None, :] ** 2 / var)
        kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0).to(x.dtype)  # (B*C, K)
        mode = "reflect" if radius < min(h, w) else "replicate"
        y = F.pad(x.reshape(1, b * c, h, w), (radius, radius, radius, radius), mode=mode)
        y = F.conv2d(y, kernel[:, None, None, :], groups=b * c)
        y = F.conv2d(y, kernel[:, None, :, None], groups=b * c)
        return y.reshape(b, c, h, w)

    def apply(
        self, x: torch.Tensor, params: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Apply given parameters (from :meth:`sample_params`) to ``x`` of shape (B, C, H, W).

        Order: flux scaling, geometric warp, blur, then noise (drawn from ``generator``).
        """
        if x.ndim != 4:
            raise ValueError(f"expected a batch of shape (B, C, H, W), got {tuple(x.shape)}")
        p = {k: v.to(x.device) for k, v in params.items()}
        if self.flux_scale > 0:
            x = x * p["flux"].to(x.dtype)[:, :, None, None]
        if self.rotate or self.flip or self.max_shift > 0 or self.zoom != (1.0, 1.0):
            x = self._warp(x, p)
        if self.blur_p > 0 and self.blur_sigma[1] > 0:
            x = self._blur(x, p["sigma"])
        if self.noise_std[1] > 0:
            noise = _normal(tuple(x.shape), generator, x.device).to(x.dtype)
            x = x + noise * p["noise"].to(x.dtype)[:, None, None, None]
        return x

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment a batch.

        Parameters
        ----------
        x : Tensor, shape (B, C, H, W)
            Floating-point pixels, linear in flux.
        generator : torch.Generator, optional
            Source of randomness, for reproducible augmentations; it may live on
            another device than ``x`` (draws are then moved). Global RNG if None.

        Returns
        -------
        Tensor, shape (B, C, H, W), same dtype and device as ``x``.
        """
        params = self.sample_params(x.shape[0], x.shape[1], x.device, generator)
        return self.apply(x, params, generator)
