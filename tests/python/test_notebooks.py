"""The notebooks in notebooks/ run headless, top to bottom, in fast mode.

Each is executed by nbclient with the `hddnn` kernel (registered for .venv by
scripts/bootstrap) and HDDNN_NOTEBOOK_FAST=1, its working directory notebooks/ (as
when opened in Jupyter); a cell that raises, or runs past CELL_TIMEOUT_S, fails the
test. Scratch files and trained models go to a temporary HDDNN_NOTEBOOK_DIR shared by
the notebooks of one session, and nothing is written into the repository. Notebooks
that launch mpirun (they use hddnn.launch) are marked `mpi`; the whole set takes
several minutes on 2 cores, so it is marked `slow`.
"""
import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "notebooks")
PATHS = sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
CELL_TIMEOUT_S = 600
KERNEL = "hddnn"


def launches_mpirun(path):
    notebook = nbformat.read(path, as_version=4)
    return any("hddnn.launch" in cell.source for cell in notebook.cells if cell.cell_type == "code")


def execute(notebook):
    """Runs every cell in notebooks/ with the hddnn kernel; raises CellExecutionError."""
    NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": NOTEBOOKS}}).execute()


def tree_snapshot():
    return {name: os.stat(os.path.join(NOTEBOOKS, name)).st_mtime_ns for name in os.listdir(NOTEBOOKS)}


@pytest.fixture(scope="session")
def scratch_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("notebooks"))


@pytest.fixture
def fast_mode(scratch_dir, monkeypatch):
    """The kernel inherits this environment: fast mode, scratch outside the repository,
    no __pycache__ beside nbsupport.py."""
    monkeypatch.setenv("HDDNN_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("HDDNN_NOTEBOOK_DIR", scratch_dir)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the kernel's debugger warns otherwise


def test_the_six_notebooks_are_there():
    names = [os.path.basename(p) for p in PATHS]
    assert names == ["01_quickstart.ipynb", "02_schemes.ipynb", "03_mapping.ipynb", "04_faults.ipynb",
                     "05_privacy.ipynb", "06_own_data.ipynb"]


@pytest.mark.parametrize("path", PATHS, ids=os.path.basename)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == KERNEL
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.mpi] if launches_mpirun(p) else [])
                                  for p in PATHS], ids=os.path.basename)
def test_notebook_runs(path, fast_mode):
    before = tree_snapshot()
    execute(nbformat.read(path, as_version=4))
    assert tree_snapshot() == before, "the notebook wrote into notebooks/"


def test_a_raising_cell_fails_the_run(fast_mode):
    notebook = new_notebook(metadata={"kernelspec": {"name": KERNEL, "display_name": KERNEL}})
    notebook.cells = [new_code_cell("import nbsupport\nassert nbsupport.FAST"),
                      new_code_cell("raise RuntimeError('this cell fails')"),
                      new_code_cell("print('never reached')")]
    with pytest.raises(CellExecutionError, match="this cell fails"):
        execute(notebook)
    assert "outputs" not in notebook.cells[2] or notebook.cells[2].outputs == []
