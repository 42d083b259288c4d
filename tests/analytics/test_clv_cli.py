"""`laoke clv fit` on the CDNOW sample: only JSON on stdout, each parameter by name within 0.5% of
the published value (/work/shared/data/README.md); a bad file is a clear error."""

from __future__ import annotations

import json

import pytest

from laoke.cli import main

SAMPLE = "/work/shared/data/cdnow/CDNOW_sample.txt"
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}


def test_fit_cdnow_prints_the_parameters_by_name(capsys):
    assert main(["clv", "fit", "--transactions", SAMPLE, "--calibration-end", "1997-09-30"]) == 0
    out = json.loads(capsys.readouterr().out)  # the whole stdout is one JSON document
    assert out["customers"] == 2357 and out["repeat_buyers"] == 946
    for model, params in PUBLISHED.items():
        assert out[model]["converged"]
        for name, value in params.items():
            assert out[model][name] == pytest.approx(value, rel=0.005), (model, name)
    assert out["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)


def test_fit_bad_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("who,when,how much\nx,2024-01-01,1\n", encoding="utf-8")
    assert main(["clv", "fit", "--transactions", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = json.loads(captured.err)
    assert err["code"] == "ANALYTICS_CLV_FILE_INVALID" and "customer,date,amount" in err["message"]
