"""Each augmentation does what its name says, per sample with probability p, deterministically."""

import math
from types import SimpleNamespace

import pytest
import torch

from training.data.augment import build_augmenter, rotate, shift, zoom
from training.losses import build_loss
from training.spec import Spec, SpecError

IMAGES = SimpleNamespace(input_shape=(3, 16, 16), task="classification", n_classes=10, kind="image")
VECTORS = SimpleNamespace(input_shape=(5,), task="classification", n_classes=3, kind="vector")
TARGETS = SimpleNamespace(input_shape=(5,), task="regression", n_classes=0, kind="vector")


def items(*docs):
    return Spec.model_validate({"augment": list(docs)}).augment


def run(doc, x, y=None, bundle=IMAGES, seed=0):
    y = torch.arange(len(x)) % bundle.n_classes if y is None else y
    return build_augmenter(items(doc), bundle)(x, y, torch.Generator().manual_seed(seed))


def images(n=8, c=3, h=16, w=16, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def dot(n=64, size=17, at=(8, 12)):
    x = torch.zeros(n, 1, size, size)
    x[:, 0, at[0], at[1]] = 1.0
    return x


def test_no_items_means_no_augmenter():
    assert build_augmenter([], IMAGES) is None


@pytest.mark.parametrize("kind", ["hflip", "vflip", "rotate", "translate", "scale", "crop", "erase",
                                  "gaussian_noise", "mixup", "cutmix"])
def test_p_zero_is_the_identity(kind):
    x = images()
    y = torch.arange(8)
    out, labels = run({"type": kind, "p": 0.0}, x, y)
    assert torch.equal(out, x)
    if labels.dtype == torch.int64:
        assert torch.equal(labels, y)
    else:  # mixing ops always return soft labels: here exactly one-hot
        assert torch.equal(labels, torch.nn.functional.one_hot(y, 10).float())


def test_hflip_and_vflip_with_p_one_are_torch_flip():
    x = images()
    assert torch.equal(run({"type": "hflip", "p": 1.0}, x)[0], torch.flip(x, [-1]))
    assert torch.equal(run({"type": "vflip", "p": 1.0}, x)[0], torch.flip(x, [-2]))


def test_p_applies_per_sample():
    x = images(n=400, h=4, w=4)
    out, _ = run({"type": "hflip", "p": 0.5}, x)
    flipped = (out == torch.flip(x, [-1])).flatten(1).all(1)
    kept = (out == x).flatten(1).all(1)
    assert (flipped | kept).all()
    assert 0.4 < flipped.float().mean() < 0.6


def test_rotate_by_90_degrees_is_rot90():
    x = images(n=4, h=9, w=9)
    out = rotate(x, torch.full((4,), 90.0))
    assert torch.allclose(out, torch.rot90(x, 1, (-2, -1)), atol=1e-5)
    assert torch.allclose(rotate(x, torch.full((4,), -90.0)), torch.rot90(x, -1, (-2, -1)), atol=1e-5)
    assert torch.allclose(rotate(x, torch.zeros(4)), x, atol=1e-5)


def test_rotate_turns_each_image_by_at_most_the_stated_degrees():
    x = dot()
    out, _ = run({"type": "rotate", "p": 1.0, "degrees": 30}, x)
    ys, xs = torch.meshgrid(torch.arange(17.0), torch.arange(17.0), indexing="ij")
    mass = out[:, 0].sum((1, 2))
    cy, cx = (out[:, 0] * ys).sum((1, 2)) / mass - 8, (out[:, 0] * xs).sum((1, 2)) / mass - 8
    angle = torch.rad2deg(torch.atan2(cy, cx)).abs()
    assert angle.max() <= 31 and angle.max() > 15  # within the range, and really turning
    assert torch.allclose(torch.sqrt(cx ** 2 + cy ** 2), torch.full((64,), 4.0), atol=0.35)  # a rotation


def test_translate_moves_by_whole_pixels_within_the_stated_fraction():
    x = dot(at=(8, 8))
    out, _ = run({"type": "translate", "p": 1.0, "shift": 0.25}, x)
    assert torch.equal(out.flatten(1).sum(1), torch.ones(64))  # one pixel, still exactly 1
    pos = out[:, 0].flatten(1).argmax(1)
    dy, dx = pos // 17 - 8, pos % 17 - 8
    limit = round(0.25 * 17)
    assert dy.abs().max() <= limit and dx.abs().max() <= limit
    assert len(set(zip(dy.tolist(), dx.tolist()))) > 10


def test_shift_fills_with_zeros():
    x = torch.arange(1.0, 26.0).view(1, 1, 5, 5)
    out = shift(x, torch.tensor([1]), torch.tensor([-2]))
    expected = torch.zeros(5, 5)
    expected[1:, :3] = x[0, 0, :4, 2:]
    assert torch.equal(out[0, 0], expected)


def test_crop_pads_then_crops_back_to_the_same_shape():
    x = images(n=32, h=8, w=8)
    out, _ = run({"type": "crop", "p": 1.0, "padding": 2}, x)
    assert out.shape == x.shape
    offsets = []
    for i in range(32):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(out[i:i + 1], shift(x[i:i + 1], torch.tensor([dy]), torch.tensor([dx])))]
        assert matches, "each output is the input shifted by at most the padding"
        offsets.append(matches[0])
    assert len(set(offsets)) > 5


def test_scale_zooms_about_the_centre():
    ones = torch.ones(2, 1, 16, 16)
    assert torch.allclose(zoom(ones, torch.tensor([0.5, 0.5])).sum((1, 2, 3)), torch.tensor([64.0, 64.0]))
    x = images(n=4)
    out, _ = run({"type": "scale", "p": 1.0, "scale": [2.0, 2.0]}, x)
    assert torch.allclose(out, zoom(x, torch.full((4,), 2.0)))
    assert torch.allclose(zoom(x, torch.full((4,), 1.0)), x, atol=1e-6)


def test_erase_zeroes_a_rectangle_of_the_stated_area():
    x = torch.ones(50, 2, 32, 32)
    out, _ = run({"type": "erase", "p": 1.0, "scale": [0.25, 0.25]}, x)
    assert torch.equal(out[:, 0], out[:, 1])  # the same box in every channel
    zero = out[:, 0] == 0
    area = zero.flatten(1).sum(1).float()
    assert ((area / 1024 - 0.25).abs() < 0.02).all()
    for z in zero:  # a filled rectangle
        r, c = z.any(1).nonzero().flatten(), z.any(0).nonzero().flatten()
        assert (r.max() - r.min() + 1) * (c.max() - c.min() + 1) == z.sum()
    some, _ = run({"type": "erase", "p": 1.0, "scale": [0.02, 0.2]}, x)
    frac = (some[:, 0] == 0).flatten(1).float().mean(1)
    assert frac.min() >= 0.015 and frac.max() <= 0.21


def test_gaussian_noise_has_the_stated_std_on_any_input():
    x = torch.zeros(2000, 5)
    out, _ = run({"type": "gaussian_noise", "p": 1.0, "std": 0.3}, x, bundle=VECTORS)
    assert out.std().item() == pytest.approx(0.3, rel=0.03) and abs(out.mean().item()) < 0.01
    half, _ = run({"type": "gaussian_noise", "p": 0.5, "std": 0.3}, x, bundle=VECTORS)
    assert 0.4 < (half == 0).all(1).float().mean() < 0.6
    targets, _ = run({"type": "gaussian_noise", "std": 0.1}, x, y=torch.zeros(2000, 1), bundle=TARGETS)
    assert targets.std().item() == pytest.approx(0.1, rel=0.05)


def test_mixup_makes_the_same_convex_combination_of_inputs_and_labels():
    x = torch.randn(10, 3, 4, 4)
    y = torch.arange(10)  # sample i is the only one of class i, so a label row names the partners
    out, soft = run({"type": "mixup", "p": 1.0, "alpha": 1.0}, x, y)
    assert soft.shape == (10, 10) and soft.dtype == torch.float32
    assert (soft >= 0).all() and torch.allclose(soft.sum(1), torch.ones(10))
    assert (soft > 0).sum(1).max() <= 2  # two partners at most
    assert torch.allclose(out, torch.einsum("nk,kchw->nchw", soft, x), atol=1e-5)
    assert (soft.max(1).values < 0.99).sum() >= 5  # really mixing


def test_mixup_works_on_vectors_and_keeps_soft_labels_soft():
    x, y = torch.randn(6, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    out, soft = run({"type": "mixup", "p": 1.0}, x, y, bundle=VECTORS)
    assert out.shape == x.shape and soft.shape == (6, 3)
    aug = build_augmenter(items({"type": "mixup", "p": 1.0}, {"type": "mixup", "p": 1.0}), VECTORS)
    _, twice = aug(x, y, torch.Generator().manual_seed(0))
    assert torch.allclose(twice.sum(1), torch.ones(6))


def test_cutmix_label_weights_equal_the_pasted_area():
    x = torch.arange(1.0, 11.0).view(10, 1, 1, 1).expand(10, 2, 16, 16).clone()  # sample i is all i + 1
    y = torch.arange(10)
    out, soft = run({"type": "cutmix", "p": 1.0, "alpha": 1.0}, x, y)
    for i in range(10):
        share = torch.stack([(out[i, 0] == k + 1).float().mean() for k in range(10)])
        assert torch.allclose(soft[i], share)
        pasted = out[i, 0] != i + 1
        if pasted.any():
            r, c = pasted.any(1).nonzero().flatten(), pasted.any(0).nonzero().flatten()
            assert (r.max() - r.min() + 1) * (c.max() - c.min() + 1) == pasted.sum()
    assert (soft.max(1).values < 1).sum() >= 3


def test_same_generator_seed_same_batch():
    x = images()
    chain = ({"type": "rotate", "p": 0.7}, {"type": "erase"}, {"type": "mixup"})
    aug = build_augmenter(items(*chain), IMAGES)
    y = torch.arange(8)
    a = aug(x, y, torch.Generator().manual_seed(5))
    b = aug(x, y, torch.Generator().manual_seed(5))
    c = aug(x, y, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_impossible_items_are_spec_errors():
    with pytest.raises(SpecError) as err:
        build_augmenter(items({"type": "gaussian_noise"}, {"type": "hflip"}), VECTORS)
    assert err.value.errors[0]["path"] == "/augment/1/type"
    with pytest.raises(SpecError):
        build_augmenter(items({"type": "mixup"}), TARGETS)


def test_soft_labels_train_with_every_classification_loss():
    logits = torch.randn(6, 3, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    _, soft = run({"type": "mixup", "p": 1.0}, torch.randn(6, 5), y, bundle=VECTORS)
    hard = torch.nn.functional.one_hot(y, 3).float()
    for name in ("cross_entropy", "bce", "mse"):
        loss = build_loss(name, "classification", 3)
        assert torch.isfinite(loss(logits, soft))
        assert torch.allclose(loss(logits, hard), loss(logits, y))
    ce = build_loss("cross_entropy", "classification", 3)(logits, soft)
    ce.backward()
    assert logits.grad is not None and math.isfinite(ce.item())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_device_batches_match_cpu_batches():
    x = images()
    aug = build_augmenter(items({"type": "rotate", "p": 1.0}, {"type": "crop"}, {"type": "erase"},
                               {"type": "gaussian_noise"}, {"type": "cutmix"}), IMAGES)
    y = torch.arange(8)
    cpu = aug(x, y, torch.Generator().manual_seed(1))
    gpu = aug(x.cuda(), y.cuda(), torch.Generator().manual_seed(1))
    assert gpu[0].is_cuda and torch.allclose(gpu[0].cpu(), cpu[0], atol=1e-4)
    assert torch.allclose(gpu[1].cpu(), cpu[1])


def test_the_trainer_applies_the_augmenter_to_training_batches():
    from training.loop import ListSink, train
    from training.spec import validate

    spec = validate({"data": {"dataset": "digits", "n_samples": 120},
                     "augment": [{"type": "rotate"}, {"type": "crop"}, {"type": "erase"}, {"type": "cutmix"},
                                 {"type": "mixup"}, {"type": "gaussian_noise"}],
                     "model": {"layers": [{"type": "dense", "units": 16}]},
                     "training": {"epochs": 2, "batch_size": 32},
                     "monitor": {"diagnostics": False, "boundary": False}})
    sink = ListSink()
    assert train(spec, sink) == "succeeded"
    assert all(math.isfinite(e["loss"]) for e in sink.of("step"))
