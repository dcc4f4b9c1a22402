"""The Trainer's checkpoints: a run cancelled anywhere, even mid-epoch, resumes exactly."""

import numpy as np
import pytest
import torch
from torch import nn

from astroexplorer.core.errors import UserError
from astroexplorer.ml.encoders import ProjectionHead, SmallCNNEncoder
from astroexplorer.ml.training import Trainer, fit_batch_size, memory_trial, read_checkpoint_info

N_ROWS, BATCH, EPOCHS = 50, 10, 3
STEPS = N_ROWS // BATCH


def _run(checkpoint, cancel_after: int | None = None, resume: bool = False,
         crash_at: int | None = None, interval_s: float = 600.0):
    """A toy regression trained 3 epochs of 5 batches; closed (as Cancel does) after
    ``cancel_after`` batches, or crashing in batch ``crash_at``. Returns the trainer,
    the model and the progress reports."""
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    x = torch.randn(N_ROWS, 4, generator=torch.Generator().manual_seed(1))
    y = x.sum(1, keepdim=True)
    gen = torch.Generator().manual_seed(2)
    trainer = Trainer({"model": model}, model.parameters(), torch.device("cpu"), lr=0.05,
                      total_steps=EPOCHS * STEPS, identity={"toy": 1},
                      rng=np.random.default_rng(3), torch_generator=gen,
                      checkpoint=checkpoint, resume=resume, checkpoint_interval_s=interval_s)
    steps = []

    def batches(epoch):
        order = trainer.epoch_order(np.arange(N_ROWS))
        for i in range(0, order.size, BATCH):
            yield BATCH, order[i:i + BATCH]

    def step(rows):
        steps.append(rows)
        if len(steps) == crash_at:
            raise RuntimeError("power cut")
        noise = 0.1 * torch.randn(rows.size, 1, generator=gen)  # the run's generator is used
        return trainer.step(((model(x[rows]) - y[rows] - noise) ** 2).mean())

    fit = trainer.fit(EPOCHS, batches, step, STEPS, EPOCHS * STEPS)
    reports = []
    for p in fit:
        reports.append(p)
        if sum(r.message.startswith("epoch") for r in reports) == cancel_after:
            fit.close()
            break
    return trainer, model, reports


@pytest.mark.parametrize("cancel_after", [2, 5, 7, 14])  # mid-epoch, an epoch's last batch...
def test_a_run_cancelled_after_any_batch_resumes_exactly_there(tmp_path, cancel_after):
    whole, whole_model, _ = _run(None)
    ckpt = tmp_path / "run.safetensors"
    _run(ckpt, cancel_after)
    info = read_checkpoint_info(ckpt)
    assert info["epochs_done"] == (cancel_after - 1) // STEPS
    assert info["epoch_partial"]["batches"] == (cancel_after - 1) % STEPS + 1
    resumed, model, reports = _run(ckpt, resume=True)
    epoch, batch = divmod(cancel_after, STEPS)
    assert reports[0].message == f"resuming run.safetensors: epoch {epoch + 1}/3, batch {batch + 1}"
    assert reports[0].step == cancel_after
    assert reports[1].step == cancel_after + 1  # no batch trained twice, none skipped
    assert len(reports) - 1 == EPOCHS * STEPS - cancel_after
    assert resumed.epoch_losses == whole.epoch_losses
    assert torch.equal(model.weight, whole_model.weight) and torch.equal(model.bias, whole_model.bias)


def test_a_checkpoint_cancelled_twice_still_resumes_exactly(tmp_path):
    whole, whole_model, _ = _run(None)
    ckpt = tmp_path / "run.safetensors"
    _run(ckpt, 3)
    _run(ckpt, 4, resume=True)  # cancelled again, in the next epoch
    resumed, model, reports = _run(ckpt, resume=True)
    assert reports[1].step == 3 + 4 + 1
    assert resumed.epoch_losses == whole.epoch_losses
    assert torch.equal(model.weight, whole_model.weight)


def test_an_uninterrupted_run_leaves_an_end_of_epoch_checkpoint(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    _run(ckpt)
    info = read_checkpoint_info(ckpt)
    assert info["epochs_done"] == EPOCHS and info["epoch_partial"] is None
    assert not list(tmp_path.glob(".*tmp"))
    _, _, reports = _run(ckpt, resume=True)  # e.g. cancelled while embedding
    assert [r.message for r in reports] == ["resuming run.safetensors: training already done"]


def test_a_crash_mid_epoch_loses_only_the_batches_since_the_last_interval_checkpoint(tmp_path):
    whole, whole_model, _ = _run(None)
    ckpt = tmp_path / "run.safetensors"
    with pytest.raises(RuntimeError, match="power cut"):
        _run(ckpt, crash_at=8, interval_s=0.0)  # checkpointed after every batch
    assert read_checkpoint_info(ckpt)["epoch_partial"]["batches"] == 2  # batches 6, 7
    resumed, model, reports = _run(ckpt, resume=True)
    assert reports[1].step == 8
    assert resumed.epoch_losses == whole.epoch_losses
    assert torch.equal(model.weight, whole_model.weight)


# -- a batch size that fits the accelerator's memory ----------------------------------
# No GPU runs here: the trials below raise the error CUDA raises when a batch does not
# fit (torch.OutOfMemoryError), as a GPU with room for at most 40 objects would.

def _gpu_with_room_for(limit: int, tried: list[int]):
    def trial(size: int) -> None:
        tried.append(size)
        if size > limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {size} MiB")
    return trial


def test_the_batch_size_is_halved_until_a_step_fits():
    tried: list[int] = []
    size = fit_batch_size(128, torch.device("mps"), _gpu_with_room_for(40, tried), "SimCLR",
                          "cutouts")
    assert size == 32 and tried == [128, 64, 32]


def test_the_cpu_keeps_the_batch_size_untried():
    tried: list[int] = []
    assert fit_batch_size(128, torch.device("cpu"), _gpu_with_room_for(0, tried), "x", "y") == 128
    assert tried == []


def test_no_batch_that_fits_is_a_user_error_and_other_errors_pass_through():
    with pytest.raises(UserError, match="ran out of memory even with batches of 2 cutouts"):
        fit_batch_size(16, torch.device("mps"), _gpu_with_room_for(1, []), "SimCLR", "cutouts")

    def broken(size: int) -> None:
        raise RuntimeError("a bug, not memory")

    with pytest.raises(RuntimeError, match="a bug"):
        fit_batch_size(16, torch.device("mps"), broken, "SimCLR", "cutouts")


def test_a_memory_trial_leaves_the_networks_as_they_were():
    torch.manual_seed(0)
    modules = {"encoder": SmallCNNEncoder(3, dim=8, width=4), "head": ProjectionHead(8, 16, 4)}
    before = {name: {k: v.clone() for k, v in m.state_dict().items()} for name, m in modules.items()}
    x = torch.randn(6, 3, 16, 16)
    memory_trial(modules, lambda: modules["head"](modules["encoder"](x)).pow(2).mean(),
                 torch.device("cpu"))
    for name, module in modules.items():
        after = module.state_dict()
        assert all(torch.equal(after[k], v) for k, v in before[name].items())  # BatchNorm too
        assert all(p.grad is None for p in module.parameters())
