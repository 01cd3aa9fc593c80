def test_schema_lists_the_vocabulary(client_a):
    r = client_a.get("/api/spec/schema")
    assert r.status_code == 200
    text = r.content.decode()
    for word in ("nesterov", "kaiming_normal", "groupnorm", "cutmix", "onecycle", "huber", "spiral"):
        assert word in text


def test_validate_empty_spec_summarizes_the_default_network(client_a):
    r = client_a.post_json("/api/spec/validate", {"spec": {}})
    assert r.status_code == 200, r.content
    summary = r.json()["summary"]
    assert summary["params"] == sum(layer["params"] for layer in summary["layers"])
    assert summary["layers"][-1]["name"] == "output"
    assert summary["layers"][0]["output_shape"] == [8]


def test_validate_reports_every_error_with_its_path(client_a):
    spec = {"model": {"layers": [{"type": "dense", "units": 0}, {"type": "warp"}]},
            "optimizer": {"lr": -1}, "training": {"epochs": 10**6}}
    r = client_a.post_json("/api/spec/validate", {"spec": spec})
    assert r.status_code == 400
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"/model/layers/0/units", "/model/layers/1", "/optimizer/lr"} <= paths


def test_limits_are_enforced_on_the_server(client_a):
    r = client_a.post_json("/api/spec/validate", {"spec": {"training": {"epochs": 10**6}}})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"path": "/training/epochs", "message": "Epochs must be at most 2000 (the server's limit)"}]
    huge = {"model": {"layers": [{"type": "dense", "units": 4096}] * 3}}
    r = client_a.post_json("/api/spec/validate", {"spec": huge})
    assert r.status_code == 400 and "parameters" in r.json()["errors"][0]["message"]


def test_bad_json_is_a_400_not_a_500(client_a):
    for raw in ("{", "[1, 2]", '"spec"', "\x00\xff"):
        r = client_a.post_json("/api/spec/validate", raw=raw)
        assert r.status_code == 400, raw
        assert r.json()["errors"][0]["message"]
    r = client_a.post_json("/api/spec/validate", {"not_spec": {}})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/spec"
    r = client_a.post_json("/api/spec/validate", {"spec": [1]})
    assert r.status_code == 400


def test_wrong_method_is_a_405(client_a):
    assert client_a.get("/api/spec/validate").status_code == 405


def test_presets_are_valid_specs(client_a):
    r = client_a.get("/api/presets")
    assert r.status_code == 200
    presets = r.json()
    assert presets and all({"slug", "title", "lesson", "spec"} <= set(p) for p in presets)
    for p in presets:
        assert client_a.post_json("/api/spec/validate", {"spec": p["spec"]}).status_code == 200, p["slug"]
