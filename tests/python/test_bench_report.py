"""bench/report.py on a temporary results folder: the claims table, the sections in
bench/run.py's ORDER (missing ones reported as not run), the README headline block
replaced, and a README without the markers left untouched with a warning."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORT = os.path.join(ROOT, "bench", "report.py")
START, END = "<!-- bench:headline:start -->", "<!-- bench:headline:end -->"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def fake_results(folder, with_schemes):
    os.makedirs(folder)
    claims = [{"claim": "few bytes per device", "source": "DDNN", "theirs": "> 20x", "ours": "24.5x",
               "holds": True},
              {"claim": "early exits are faster", "source": "BranchyNet", "theirs": "2–6x", "ours": "1.5x",
               "holds": False}]
    write(os.path.join(folder, "claims.json"), json.dumps({"claims": claims}))
    write(os.path.join(folder, "claims.md"), "## Claims bench\n\nbody of claims\n\n![curve](results/c.png)\n")
    write(os.path.join(folder, "data.md"), "## bench/data\n\n| reader | s |\n|---|---|\n| hddnn | 0.1 |\n")
    write(os.path.join(folder, "mapping.json"), json.dumps({"summary": {}}))
    write(os.path.join(folder, "claims_exit_curve.png"), "png")
    if with_schemes:
        rows = [{"source": source, "rho": rho, "scheme": scheme, "accuracy": 0.9, "p50_ms": 3.0, "p99_ms": 99.0,
                 "throughput_per_s": 500.0, "exit_end": 0.5, "exit_edge": 0.25, "exit_cloud": 0.25,
                 "bytes_per_sample": 5.5}
                for source in ("runtime", "sim") for rho in (0.3, 1.2) for scheme in ("end", "end-cloud")]
        write(os.path.join(folder, "schemes.json"), json.dumps({"rows": rows, "claims": []}))
        write(os.path.join(folder, "schemes_latency.png"), "png")


def run_report(tmp_path, readme_text, with_schemes=False):
    results, out, readme = tmp_path / "results", tmp_path / "REPORT.md", tmp_path / "README.md"
    fake_results(str(results), with_schemes)
    write(str(readme), readme_text)
    done = subprocess.run([sys.executable, REPORT, "--results", str(results), "--out", str(out),
                           "--readme", str(readme)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out.read_text(), readme.read_text(), done.stderr


def test_report_has_header_claims_and_sections_in_order(tmp_path):
    report, _, _ = run_report(tmp_path, f"# x\n{START}\n{END}\n")
    assert "Machine: " in report and " cores, " in report and "commit " in report
    assert "| few bytes per device | DDNN | > 20x | 24.5x | ✓ | bench/claims |" in report
    assert "| early exits are faster | BranchyNet | 2–6x | 1.5x | ✗ | bench/claims |" in report
    positions = [report.index(h) for h in ("## Claims\n", "## bench/data", "## bench/train", "## bench/mapping",
                                           "## Claims bench")]
    assert positions == sorted(positions)
    train = report[report.index("## bench/train"):report.index("## bench/parallel")]
    assert "not run" in train
    mapping = report[report.index("## bench/mapping"):report.index("## bench/schemes")]
    assert "only `mapping.json`" in mapping
    assert report.count("_Results produced ") == 2
    assert "![curve](results/c.png)" in report  # REPORT.md beside results/: paths unchanged


def test_readme_block_gets_claims_table_and_exit_curve(tmp_path):
    before, after = "# Title\n\nintro\n", "\n## Next\ntext\n"
    _, readme, _ = run_report(tmp_path, f"{before}{START}\nold headline\n{END}{after}")
    assert readme.startswith(before) and readme.endswith(after)
    block = readme[readme.index(START):readme.index(END)]
    assert "old headline" not in block
    assert "| few bytes per device | DDNN |" in block
    assert "](results/claims_exit_curve.png)" in block
    assert "1 of 2 checked claims hold" in block
    assert "[REPORT.md](REPORT.md)" in block and "notebooks/" in block


def test_readme_block_prefers_schemes_at_the_jam_point(tmp_path):
    _, readme, _ = run_report(tmp_path, f"{START}\n{END}\n", with_schemes=True)
    block = readme[readme.index(START):readme.index(END)]
    assert "ρ = 1.2" in block and "| end-cloud | 0.9000 | 3.0 | 99.0 |" in block
    assert block.count("| end |") == 1  # runtime row at the jam point only
    assert "](results/schemes_latency.png)" in block
    assert "few bytes per device" not in block


def test_readme_without_markers_is_left_untouched(tmp_path):
    text = "# README\n\nno markers here\n"
    report, readme, stderr = run_report(tmp_path, text)
    assert readme == text
    assert "warning" in stderr and START in stderr
    assert "## Claims" in report


def test_missing_results_folder_is_a_named_error(tmp_path):
    done = subprocess.run([sys.executable, REPORT, "--results", str(tmp_path / "none"), "--out",
                           str(tmp_path / "R.md"), "--readme", str(tmp_path / "README.md")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "--results" in done.stderr


def load_bench_run():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(ROOT, "bench", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_output_becomes_one_section():
    as_section = load_bench_run().as_section
    own = "## bench/train: a spec\n\n### part\n"
    assert as_section("train", "\n" + own) == own
    several = as_section("mapping", "## Routing\nx\n## Placement\n### detail\n")
    assert several == "## bench/mapping\n\n### Routing\nx\n### Placement\n#### detail\n"
    assert as_section("parallel", "host\n\n### Data\n") == "## bench/parallel\n\nhost\n\n### Data\n"
