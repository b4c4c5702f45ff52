"""Privacy of a distributed run under mpirun (conftest's tiny model over tiny4.json: end
devices 0 and 1, edge 2, cloud 3; each run a few seconds), through the run-level tamper
test hook:
- a flipped, replayed, re-keyed or truncated frame is rejected by its receiver, exactly
  once per injected fault, and its sample is still answered once (re-sent when overdue);
- what the end devices send (captured frame by frame) holds no bytes of their inputs,
  sealed or in clear, and sealed payloads do not compress."""
import zlib

import numpy as np
import pytest

import hddnn
from hddnn.capture import read_capture
from hddnn.errors import ConfigError
from hddnn.launch import parse_tamper, run
from test_runtime import TOPOLOGY, check_complete

pytestmark = pytest.mark.mpi

FAULTS = 3
REASON = {"flip": "failed authentication", "wrong-key": "failed authentication", "truncate": "malformed",
          "replay": "replayed or out of window"}
WINDOW = 16  # bytes of an input searched for in the captured frames
# zlib compressed/original size of clear payloads, measured over seeds 0-2 (docs/privacy.md):
# all of them (mostly the CBOR report) 0.21-0.22, the work frames' packed features 0.65-0.66.
CLEAR_RATIO_BOUND = {"all": 0.35, "work": 0.8}


@pytest.mark.parametrize("kind,rank,scheme", [
    ("flip", 0, "mapping"),        # an end device's work
    ("replay", 2, "mapping"),      # the edge's answers and onward work
    ("wrong-key", 3, "end-cloud"),  # the cloud's answers
    ("truncate", 1, "end-cloud"),  # the other end device's work
])
def test_tampered_frames_are_rejected_exactly_and_nothing_is_lost(model, kind, rank, scheme):
    results = run(model, TOPOLOGY, scheme=scheme, rate=15, duration=2.0, threshold=0.5,
                  tamper=[f"{kind}@{rank}:{FAULTS}"], record_requests=True)
    check_complete(results)
    crypto = results["crypto"]
    assert crypto["encrypted"] is True
    assert crypto["injected"] == {kind: FAULTS}
    assert crypto["rejected"] == FAULTS and crypto["rejected_by_reason"] == {REASON[kind]: FAULTS}
    injected_by = {d["rank"]: d["injected"] for d in results["per_device"]}
    assert injected_by[rank] == {kind: FAULTS} and all(not v for r, v in injected_by.items() if r != rank)
    # Each rejected frame held one sample's work or answer, re-sent once when overdue; a
    # replay is stopped by the window, so there is nothing to re-send and no answer twice.
    assert crypto["resent"] == (0 if kind == "replay" else FAULTS)
    assert results.requests().resends.sum() == crypto["resent"]
    assert results["duplicate_answers_dropped"] == 0


def test_tamper_entries_are_checked_before_launch(model, tmp_path):
    assert parse_tamper("wrong-key@3") == {"kind": "wrong-key", "rank": 3, "count": 1}
    assert parse_tamper("flip@0:5") == {"kind": "flip", "rank": 0, "count": 5}
    for text in ("flip", "flip@zero", "@1", "flip@1:many"):
        with pytest.raises(ConfigError, match="KIND@RANK"):
            parse_tamper(text)
    for entry, message in (("melt@0", "kind 'melt' unknown"), ("flip@9", "rank 9 is not one of the run's 4"),
                           ("flip@0:0", "count must be >= 1")):
        with pytest.raises(ConfigError, match=f"field 'tamper'.*{message}"):
            run(model, TOPOLOGY, scheme="end", tamper=[entry])
    with pytest.raises(ConfigError, match="needs encrypt"):
        run(model, TOPOLOGY, scheme="end", encrypt=False, tamper=["flip@0"])
    with pytest.raises(ConfigError, match="capture needs out"):
        run(model, TOPOLOGY, scheme="end", tamper=["capture@0"])


@pytest.fixture(scope="module", params=[True, False], ids=["sealed", "clear"])
def captured(model, tmp_path_factory, request):
    """A clean run whose two end devices capture every frame they send."""
    out = tmp_path_factory.mktemp("capture") / "r.json"
    results = run(model, TOPOLOGY, scheme="mapping", rate=15, duration=2.0, threshold=0.5, encrypt=request.param,
                  out=str(out), record_requests=True, tamper=["capture@0", "capture@1"])
    frames = {rank: read_capture(f"{out}.rank{rank}.capture") for rank in (0, 1)}
    return results, frames


def test_capture_holds_every_frame_of_a_clean_run(captured):
    results, frames = captured
    check_complete(results)
    crypto = results["crypto"]
    assert crypto["rejected"] == 0 and crypto["injected"] == {} and crypto["resent"] == 0
    assert results["captures"] == [f"{results.path}.rank0.capture", f"{results.path}.rank1.capture"]
    requests = results.requests()
    for rank, sent in frames.items():
        assert {f.source for f in sent} == {rank} and all(f.sealed == crypto["encrypted"] for f in sent)
        work = [f for f in sent if f.type == "work"]
        assert work
        # The frames in the capture are the bytes the records say went up, to the byte.
        assert sum(25 + len(f.body) for f in work) == requests[requests.origin == rank].bytes_up.sum()
        assert "report" in {f.type for f in sent}


def input_windows(image: np.ndarray) -> set:
    """Every WINDOW-byte run, not all zeros, of each pixel row of `image` (28x28 float32
    in [0,1]), as raw uint8 pixels and as the float32 the end device computes on."""
    raw = np.rint(image * 255).astype(np.uint8)
    assert np.array_equal(raw.astype(np.float32) / 255, image)  # raw is the IDX file's bytes
    needles = set()
    for rows, step in ((raw, 1), (image.astype("<f4"), 4)):
        for row in rows:
            data = row.tobytes()
            for start in range(0, len(data) - WINDOW + 1, step):
                needle = data[start:start + WINDOW]
                if any(needle):
                    needles.add(needle)
    return needles


def frame_windows(bodies) -> set:
    """Every WINDOW-byte run at every offset of the given byte strings."""
    return {body[i:i + WINDOW] for body in bodies for i in range(len(body) - WINDOW + 1)}


def test_no_input_bytes_leave_an_end_device(captured):
    results, frames = captured
    images = hddnn.datasets.fashion_mnist("test", "single").images.numpy()[:, 0, 0]
    requests = results.requests()
    searched = frame_windows(f.body for sent in frames.values() for f in sent)
    checked = 0
    for sample in requests["sample"].unique():
        needles = input_windows(images[sample])
        assert needles and not needles & searched, f"bytes of test image {sample} were sent"
        checked += 1
    assert checked >= 20
    # The search finds an input that is there: raw pixels, or the float tensor, inside a payload.
    image = images[requests["sample"].iloc[0]]
    for leak in (np.rint(image * 255).astype(np.uint8).tobytes(), image[14].astype("<f4").tobytes()):
        leaky = frame_windows([b"\x02\x00\x00\x00" + leak + b"\x00" * 4])
        assert input_windows(image) & leaky


def zlib_ratios(frames) -> dict:
    """zlib (level 9) compressed/original size of the concatenated bodies of all captured
    frames, and of the work frames alone (the features)."""
    sent = [f for rank_frames in frames.values() for f in rank_frames]
    ratios = {}
    for name, bodies in (("all", [f.body for f in sent]), ("work", [f.body for f in sent if f.type == "work"])):
        payloads = b"".join(bodies)
        ratios[name] = len(zlib.compress(payloads, 9)) / len(payloads)
    return ratios


def test_sealed_payloads_do_not_compress_and_clear_ones_do(captured):
    results, frames = captured
    ratios = zlib_ratios(frames)
    print(f"zlib ratio over captured payloads, encrypted={results['crypto']['encrypted']}: {ratios}")
    for name, ratio in ratios.items():
        if results["crypto"]["encrypted"]:
            assert ratio >= 0.98, name
        else:
            assert ratio <= CLEAR_RATIO_BOUND[name], name
