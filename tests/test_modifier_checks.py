"""GET /runs/{run_id}/modifier_checks: the structure facts of a finished run's recipes."""


def test_a_completed_run_reports_what_was_checked_about_each_modifier(service):
    created = service.create_batch(recipes_per_run=3)
    run_id = created["runs"][0]["run_id"]
    service.wait_batch_finished(created["batch"]["batch_id"])
    reply = service.get(f"/runs/{run_id}/modifier_checks")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["limits"] == {"max_heavy_atoms": 40, "max_molecular_weight": 600.0}
    assert [item["rank"] for item in body["items"]] == [1, 2, 3]
    for item in body["items"]:
        assert item["structure_checked"] and item["carboxylic_acid_groups"] >= 1
        assert item["inchikey"].count("-") == 2 and item["formula"].startswith("C")
        assert item["name_check"] == "verified"
    output = service.get(f"/runs/{run_id}/output").json()
    assert [r["modifier_smiles"] for r in output["recipes_json"]["recipes"]] == \
        [item["smiles"] for item in body["items"]]


def test_unknown_and_unfinished_runs_are_refused_with_the_envelope(service_factory):
    procs = service_factory()  # no worker: the run stays queued
    run_id = procs.create_batch()["runs"][0]["run_id"]
    queued = procs.get(f"/runs/{run_id}/modifier_checks")
    assert queued.status_code == 409 and queued.json()["error"]["details"]["status"] == "queued"
    unknown = procs.get("/runs/run_nope/modifier_checks")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_a_dark_mode_drawing_is_readable_on_the_dark_page():
    import re

    from core.chemistry.structure import structure_svg
    surface = _luminance("#161d24")  # the page's dark card colour (app.css --surface)
    svg = structure_svg("NC(=O)c1ccc(S)c(F)c1C(=O)OP(=O)(O)Cl", dark=True)
    colours = set(re.findall(r"#[0-9A-Fa-f]{6}", svg))
    assert colours
    for colour in colours:
        contrast = (_luminance(colour) + 0.05) / (surface + 0.05)
        assert contrast >= 4.5, f"{colour} has contrast {contrast:.1f}:1 on the dark surface"
