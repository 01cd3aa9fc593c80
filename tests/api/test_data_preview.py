"""POST /api/data/preview: the engine's data, bounded, for the page to draw before training."""

import pytest

from webapp.data_preview import MAX_IMAGES, MAX_POINTS


def test_a_2d_set_previews_its_training_points_by_class(client_a):
    r = client_a.post_json("/api/data/preview", {"spec": {"seed": 3, "data": {"dataset": "xor", "n_samples": 400}}})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["kind"] == "2d" and body["n_classes"] == 2
    pts = body["points"]
    assert len(pts["x"]) == len(pts["y"]) == len(pts["label"]) == body["n_train"]
    assert set(pts["label"]) == {0, 1}
    # xor: the sign of x1 * x2 tells the class for nearly every point
    same = sum((x * y > 0) == (lab == 1) for x, y, lab in zip(pts["x"], pts["y"], pts["label"])) / len(pts["x"])
    assert max(same, 1 - same) > 0.85


def test_the_preview_is_bounded_however_many_samples(client_a):
    r = client_a.post_json("/api/data/preview", {"spec": {"data": {"dataset": "circle", "n_samples": 5000}}})
    assert r.status_code == 200, r.content
    assert len(r.json()["points"]["x"]) == MAX_POINTS < r.json()["n_train"]


def test_1d_regression_comes_as_a_curve_sorted_by_x(client_a):
    r = client_a.post_json("/api/data/preview", {"spec": {"data": {"dataset": "poly1d"}}})
    body = r.json()
    assert r.status_code == 200 and body["kind"] == "1d" and body["task"] == "regression"
    xs = body["points"]["x"]
    assert xs == sorted(xs) and len(body["points"]["label"]) == len(xs)


def test_digits_preview_shows_images_and_their_augmented_versions(client_a):
    spec = {"data": {"dataset": "digits"}, "augment": [{"type": "hflip", "p": 1.0}]}
    r = client_a.post_json("/api/data/preview", {"spec": spec})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["kind"] == "image" and len(body["images"]) == MAX_IMAGES == len(body["labels"])
    img, aug = body["images"][0], body["augmented"][0]
    assert len(img) == 1 and len(img[0]) == 8 and len(img[0][0]) == 8
    # hflip with p=1 mirrors every row
    assert all(aug[0][r] == list(reversed(img[0][r])) for r in range(8))
    assert body["augment_note"] == "hflip"


def test_digits_without_augmentations_sends_no_augmented_images(client_a):
    body = client_a.post_json("/api/data/preview", {"spec": {"data": {"dataset": "digits"}}}).json()
    assert "augmented" not in body


def test_mnist1d_previews_signals(client_a):
    body = client_a.post_json("/api/data/preview", {"spec": {"data": {"dataset": "mnist1d", "n_samples": 500}}}).json()
    assert body["kind"] == "vector" and len(body["series"][0]) == 40


def test_the_model_part_of_the_spec_does_not_matter(client_a):
    spec = {"data": {"dataset": "moons"}, "model": {"layers": [{"type": "dense", "units": 0}]}}
    assert client_a.post_json("/api/data/preview", {"spec": spec}).status_code == 200


@pytest.mark.parametrize("spec,path", [
    ({"data": {"dataset": "nope"}}, "/data/dataset"),
    ({"data": {"n_samples": -5}}, "/data/n_samples"),
    ({"data": {"dataset": "xor"}, "augment": [{"type": "hflip"}]}, "/augment/0/type"),
    ({"data": {"n_samples": 10**9}}, "/data/n_samples"),
])
def test_a_bad_data_spec_is_a_400_naming_the_field(client_a, spec, path):
    r = client_a.post_json("/api/data/preview", {"spec": spec})
    assert r.status_code == 400
    assert path in {e["path"] for e in r.json()["errors"]}


def test_a_body_without_spec_or_not_json_is_a_400(client_a):
    assert client_a.post_json("/api/data/preview", {}).status_code == 400
    assert client_a.post_json("/api/data/preview", raw="{").status_code == 400
    assert client_a.post_json("/api/data/preview", {"spec": [1]}).status_code == 400
