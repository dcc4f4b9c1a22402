"""Image encoders for cutouts: a small residual CNN, the SimCLR/BYOL projection head,
and the convolutional decoder of the autoencoders."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MIN_IMAGE_SIZE", "ConvDecoder", "ProjectionHead", "SmallCNNEncoder"]

#: Smallest cutout side (pixels) the encoders accept: three stride-2 stages leave 2 px.
MIN_IMAGE_SIZE = 16


class _ResidualBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and an identity (or 1x1) shortcut.

    Shapes: ``(B, c_in, H, W) -> (B, c_out, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        # Zero-init the last BN so each block starts as the identity: stabler early training.
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class SmallCNNEncoder(nn.Module):
    """A small ResNet-style encoder from cutouts to representation vectors.

    Architecture: a 3x3 stem at full resolution, then three residual stages of
    widths ``width, 2*width, 4*width``, each of ``depth`` blocks and downsampling by
    2, a final residual block, global average pooling and a linear map to ``dim``.
    Works for any number of bands and any ``H, W >= 16`` (the pooling removes the
    spatial size).

    Parameters
    ----------
    in_channels : int
        Number of bands ``C``.
    dim : int
        Size ``D`` of the representation.
    width : int
        Channels of the first stage; cost grows roughly as ``width**2``.
    depth : int
        Residual blocks per stage (1 = 8 convolutions in all, 2 = 14, ...).

    Notes
    -----
    ``forward(x)``: ``x`` of shape ``(B, C, H, W)`` (float, normalised cutouts)
    returns ``(B, D)``.
    """

    def __init__(self, in_channels: int, dim: int = 128, width: int = 32, depth: int = 1) -> None:
        super().__init__()
        if in_channels < 1 or dim < 1 or width < 1 or depth < 1:
            raise ValueError("in_channels, dim, width and depth must all be positive")
        self.in_channels = in_channels
        self.dim = dim
        self.width = width
        self.depth = depth
        w = width
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)
        )
        blocks: list[nn.Module] = []
        for c_in, c_out in ((w, w), (w, 2 * w), (2 * w, 4 * w)):
            blocks.append(_ResidualBlock(c_in, c_out, stride=2))
            blocks.extend(_ResidualBlock(c_out, c_out) for _ in range(depth - 1))
        blocks.append(_ResidualBlock(4 * w, 4 * w, stride=1))
        self.stages = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * w, dim)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode cutouts.

        Parameters
        ----------
        x : Tensor, shape (B, C, H, W)

        Returns
        -------
        Tensor, shape (B, dim)
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected input of shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        h = self.stages(self.stem(x))
        return self.fc(torch.flatten(self.pool(h), 1))


class ProjectionHead(nn.Module):
    """The SimCLR projection MLP: ``Linear -> BatchNorm -> ReLU -> Linear``.

    Parameters
    ----------
    dim : int
        Input size (the encoder's representation size).
    hidden : int
        Hidden layer size.
    out : int
        Output size (where the contrastive loss is computed).

    Notes
    -----
    ``forward(h)``: ``(B, dim) -> (B, out)``. In training mode the batch needs at
    least 2 rows (BatchNorm).
    """

    def __init__(self, dim: int, hidden: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Project representations, ``(B, dim) -> (B, out)``."""
        return self.net(h)


class ConvDecoder(nn.Module):
    """The mirror of :class:`SmallCNNEncoder`: a vector back to a ``(C, H, W)`` cutout.

    A linear map to ``4*width`` channels on the encoder's downsampled grid
    (``ceil(size / 8)`` pixels a side), three stages of nearest-neighbour upsampling
    by 2 followed by a 3x3 convolution, BatchNorm and ReLU (widths ``2*width,
    width, width``), and a final 3x3 convolution to ``out_channels``. The result,
    ``8 * ceil(size / 8)`` pixels a side, is resampled bilinearly to the requested
    ``(H, W)``, so any cutout size (odd, oblong) is reproduced exactly.

    Parameters
    ----------
    dim : int
        Size ``D`` of the input vector.
    out_channels : int
        Number of bands ``C``.
    width : int
        As the encoder's ``width``.
    size : int
        Side of the cutouts the decoder is built for (sets the starting grid).

    Notes
    -----
    ``forward(z, out_size)``: ``z`` ``(B, D)`` returns ``(B, C, H, W)`` for
    ``out_size = (H, W)`` (default ``(size, size)``); no output activation
    (normalised pixels are unbounded).
    """

    def __init__(self, dim: int, out_channels: int, width: int = 32, size: int = 32) -> None:
        super().__init__()
        if dim < 1 or out_channels < 1 or width < 1 or size < 1:
            raise ValueError("dim, out_channels, width and size must all be positive")
        self.size = size
        self.grid = math.ceil(size / 8)
        self.channels = 4 * width
        self.fc = nn.Linear(dim, self.channels * self.grid**2)
        layers: list[nn.Module] = []
        for c_in, c_out in ((4 * width, 2 * width), (2 * width, width), (width, width)):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, out_channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, out_size: tuple[int, int] | None = None) -> torch.Tensor:
        """Decode ``(B, D)`` vectors to ``(B, C, H, W)`` cutouts."""
        h = F.relu(self.fc(z)).view(z.shape[0], self.channels, self.grid, self.grid)
        x = self.net(h)
        out_size = tuple(out_size) if out_size is not None else (self.size, self.size)
        if tuple(x.shape[-2:]) != out_size:
            x = F.interpolate(x, size=out_size, mode="bilinear", align_corners=False)
        return x
