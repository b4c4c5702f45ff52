"""The `dist_cuda` phase of scripts/gpu_check.sh: DistributedGradients' CUDA bucket
path (NCCL on device buffers) under `mpirun -n 1`.

    mpirun -n 1 python bench/gpu/check_dist_cuda.py OUT.json models/fmnist_hetero.json

Checks that one rank's average and broadcast leave mixed CPU/CUDA, float32/float64 and
non-contiguous tensors exactly as they were, that integer tensors are refused, and that
20 SGD steps with average() between backward and step equal the same steps without it;
then times average() per training step of the spec's exported sections (batch 128).
Writes the figures to OUT.json (and stdout); exits 1 when a check fails.

Environment: HDDNN_CHECK_DEVICE (default cuda:0; `cpu` dry-runs the script without a
GPU), HDDNN_CHECK_SCALE (default 1; below 1 times fewer steps).
Importing this module needs only the standard library: torch and hddnn are imported
when it runs.
"""
import json
import os
import sys
import tempfile
import time


def sync(dev) -> None:
    """Waits for the device's queued work (a no-op on the CPU)."""
    import torch
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def check_exact(dist, dev, res: dict) -> None:
    """One rank's mean and broadcast of mixed tensors are the tensors themselves;
    integer tensors are refused (CommError)."""
    import torch
    ts = [torch.arange(5., device=dev) * 1.5, torch.full((40,), 2.0, device=dev),
          torch.arange(3, dtype=torch.float64, device=dev), torch.full((7,), 3.0),
          torch.arange(16., device=dev).view(4, 4).t()]
    expect = [t.clone() for t in ts]
    dist.average_tensors(ts)
    res["average_tensors_exact"] = all(torch.equal(a, b) and a.device == b.device for a, b in zip(ts, expect))
    res["buckets_at_64B"] = dist.last_bucket_count
    dist.broadcast(ts)
    res["broadcast_exact"] = all(torch.equal(a, b) for a, b in zip(ts, expect))
    try:
        dist.average_tensors([torch.ones(3, dtype=torch.int32, device=dev)])
        res["int_refused"] = False
    except Exception as e:  # CommError
        res["int_refused"] = "cannot be reduced" in str(e)


def check_sgd(dist, dev, res: dict) -> None:
    """20 SGD steps of a Linear with average() between backward and step equal the
    same steps without it (one rank)."""
    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    model, reference = torch.nn.Linear(32, 8).to(dev), torch.nn.Linear(32, 8).to(dev)
    reference.load_state_dict(model.state_dict())
    dist.broadcast(list(model.parameters()))
    for _ in range(20):
        x, y = torch.randn(64, 32, device=dev), torch.randn(64, 8, device=dev)
        for net, averaged in ((model, True), (reference, False)):
            net.zero_grad()
            F.mse_loss(net(x), y).backward()
            if averaged:
                dist.average(list(net.parameters()))
            with torch.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
    res["sgd_20_steps_max_diff"] = max((a - b).abs().max().item()
                                       for a, b in zip(model.parameters(), reference.parameters()))


def time_average(spec_path: str, dev, scale: float, res: dict) -> None:
    """Cost of average() per training step of the spec's exported sections: one fused
    bucket (NCCL on CUDA) plus the backend's device synchronisations, batch 128."""
    import torch
    import torch.nn.functional as F
    import hddnn
    torch._C._set_graph_executor_optimize(False)
    with open(spec_path) as f:
        spec = json.load(f)
    d = tempfile.mkdtemp()
    manifest = hddnn.Network.from_spec(spec_path, seed=0).export(d)
    mods = [torch.jit.load(os.path.join(d, s["file"]), map_location=dev) for s in manifest["sections"]]
    params = [p for m in mods for p in m.parameters()]
    for m in mods:
        m.train()
    for p in params:
        p.requires_grad_(True)
    weights = [[(e["labels"], e.get("weight", 1.0)) for e in s["exits"]] for s in spec["sections"]]
    big = hddnn._core.DistributedGradients()  # default 25 MiB buckets
    opt = torch.optim.AdamW(params, lr=1e-3)
    x = torch.rand(128, 1, 28, 28, device=dev)
    yf = torch.randint(0, 10, (128,), device=dev)
    yc = torch.randint(0, 4, (128,), device=dev)

    def step(with_average):
        h, loss = x, 0.0
        for m, ws in zip(mods, weights):
            o = m(h)
            for lab, w in ws:
                loss = loss + w * F.cross_entropy(o[lab], yf if lab == "fine" else yc)
            h = o.get("features")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if with_average:
            big.average(params)
        opt.step()

    timed = max(2, int(100 * scale))
    for with_average in (False, True):
        for _ in range(max(1, int(10 * scale))):
            step(with_average)
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(timed):
            step(with_average)
        sync(dev)
        key = "ms_per_step_" + ("with_average" if with_average else "without_average")
        res[key] = 1000 * (time.perf_counter() - t0) / timed
    res["average_buckets"] = big.last_bucket_count
    res["gradient_bytes"] = sum(p.numel() * p.element_size() for p in params)


def main(argv) -> int:
    """argv: OUT.json SPEC.json. Returns 0 when every check holds, else 1."""
    import torch
    import hddnn
    out_path, spec_path = argv[0], argv[1]
    dev = torch.device(os.environ.get("HDDNN_CHECK_DEVICE", "cuda:0"))  # cpu: a dry run of this script
    scale = float(os.environ.get("HDDNN_CHECK_SCALE", "1"))
    res = {}
    dist = hddnn._core.DistributedGradients(bucket_bytes=64)
    res["rank_size"] = [dist.rank, dist.size]
    check_exact(dist, dev, res)
    check_sgd(dist, dev, res)
    time_average(spec_path, dev, scale, res)
    res["ok"] = (res["average_tensors_exact"] and res["broadcast_exact"] and res["int_refused"]
                 and res["sgd_20_steps_max_diff"] <= 1e-6)
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
