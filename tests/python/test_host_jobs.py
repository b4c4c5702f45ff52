"""Per-host jobs' inputs: the hostfile, HOST@SECONDS events and the layout checks, each
refused with a ConfigError naming the fault (no MPI, no root)."""
import pytest

from hddnn.errors import ConfigError
from hddnn.host_jobs import HostJobs, parse_host_event, read_hostfile
from hddnn.launch import join, run


def write(tmp_path, text):
    path = tmp_path / "hosts"
    path.write_text(text)
    return str(path)


def test_hostfile_gives_hosts_and_slots_in_order(tmp_path):
    path = write(tmp_path, "# lab7\nend-host slots=4\nedge-host   slots=2  # the edges\n\ncloud-host\n")
    assert read_hostfile(path) == [("end-host", 4), ("edge-host", 2), ("cloud-host", 1)]


@pytest.mark.parametrize("text, fault", [
    ("a slots=two\n", "line 1"),
    ("a slots=0\n", "line 1"),
    ("a slots=2 extra\n", "line 1"),
    ("a slots=1\na slots=2\n", "listed twice"),
    ("# nothing\n", "no hosts"),
])
def test_bad_hostfile_is_refused_naming_the_fault(tmp_path, text, fault):
    with pytest.raises(ConfigError, match=fault):
        read_hostfile(write(tmp_path, text))


def test_missing_hostfile_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_hostfile(str(tmp_path / "none"))


def test_host_events_parse_and_bad_ones_name_the_option():
    assert parse_host_event("edge-host@2.5", "--kill-host") == ("edge-host", 2.5)
    assert parse_host_event("10.0.0.3@4", "--rejoin") == ("10.0.0.3", 4.0)
    for bad in ("edge-host", "@3", "h@-1", "h@soon"):
        with pytest.raises(ConfigError, match="--rejoin: expected HOST@SECONDS"):
            parse_host_event(bad, "--rejoin")


def test_slots_must_match_the_topology_and_ranks_map_to_hosts(tmp_path):
    with pytest.raises(ConfigError, match="6 slots over 2 hosts, but the topology has 7 devices"):
        HostJobs([("a", 4), ("b", 2)], 7, 6, ["node"], str(tmp_path))
    jobs = HostJobs([("a", 4), ("b", 2), ("c", 1)], 7, 6, ["node"], str(tmp_path))
    assert jobs.first_ranks == [0, 4, 6] and jobs.coordinator_host == "c"
    assert jobs.ranks_of("b") == [4, 5] and jobs.host_of(3) == "a"
    with pytest.raises(ConfigError, match="host d is not in the hostfile"):
        jobs.ranks_of("d")


def test_host_faults_need_per_host_jobs_and_join_needs_a_running_system(tmp_path):
    with pytest.raises(ConfigError, match="need hosts="):
        run("model", "topology", kill_host=[("h", 1.0)])
    with pytest.raises(ConfigError, match="jobs.json missing"):
        join(str(tmp_path), "h")
