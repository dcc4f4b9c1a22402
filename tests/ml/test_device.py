import pytest
import torch

from astroexplorer.core.errors import UserError
from astroexplorer.ml.device import (
    available_cpus,
    configure_cpu_threads,
    describe_device,
    select_device,
)


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto picks the GPU here")
def test_auto_is_cpu_without_accelerators():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("auto picks MPS here")
    assert select_device("auto") == torch.device("cpu")
    assert select_device(" CPU ") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda_is_a_user_error():
    with pytest.raises(UserError, match="cuda"):
        select_device("cuda")
    with pytest.raises(UserError):
        select_device("cuda:1")


def test_unknown_device_is_a_user_error():
    with pytest.raises(UserError, match="not recognised"):
        select_device("tpu")


def test_describe_cpu_mentions_threads():
    text = describe_device(torch.device("cpu"))
    assert text.startswith("CPU, ") and "thread" in text


def test_threads_never_exceed_usable_cores():
    before = torch.get_num_threads()
    try:
        n = configure_cpu_threads()
        assert 1 <= n <= max(available_cpus(), 1)
        assert n <= before
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_selected_and_described():
    dev = select_device("auto")
    assert dev.type == "cuda"
    assert "CUDA" in describe_device(dev)
