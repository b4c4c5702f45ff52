"""The `throughput` phase of scripts/gpu_check.sh: training throughput of a spec
(models/fmnist_hetero.json), CUDA against CPU.

    python bench/gpu/check_throughput.py models/fmnist_hetero.json OUT.json

hddnn's trainer (nn::fit, C++) runs on the CPU only: it takes no device. So:
 A. hddnn's C++ trainer on the CPU (Network.fit, stop_after), steps/s: the reference.
 B. The same network's sections as hddnn exports them (TorchScript, what the trainer
    trains), loaded in Python on cuda and on cpu: forward + joint loss + backward +
    AdamW step, same batches (random draws from the training images, no augmentation),
    graph-executor optimisation off as in the trainer. Steps/s per device and the ratio.
With a GPU it also checks that the same weights give the same logits on both devices.
Without one it measures the CPU alone. Writes the figures to OUT.json.

Environment: HDDNN_CHECK_SCALE (default 1; below 1, a quick dry run with fewer steps).
Importing this module needs only the standard library: torch and hddnn are imported
when it runs.
"""
import json
import os
import sys
import tempfile
import time


def training_data(res: dict):
    """The Fashion-MNIST training split, or 8192 synthetic images of the same shapes
    when the dataset is missing; `res` notes which and how long loading took."""
    import torch
    import hddnn
    t0 = time.perf_counter()
    try:
        train = hddnn.datasets.fashion_mnist("train")
        res["data"] = f"Fashion-MNIST train split, {train.fine.numel()} images"
    except Exception as e:  # no dataset: synthetic images, same shapes
        g = torch.Generator().manual_seed(0)
        fine = torch.randint(0, 10, (8192,), generator=g)
        train = hddnn.datasets.LabelledImages(torch.rand(8192, 1, 1, 28, 28, generator=g), fine,
                                              torch.tensor(hddnn.datasets.COARSE_OF_FINE)[fine])
        res["data"] = f"synthetic 8192 images ({e})"
    res["data_seconds"] = round(time.perf_counter() - t0, 2)
    print(res["data"], flush=True)
    return train


def time_cpp_trainer(spec_path: str, spec: dict, train, scale: float, res: dict):
    """A. hddnn's C++ trainer on the CPU; returns the network, for its export."""
    import hddnn
    net = hddnn.Network.from_spec(spec_path, seed=0)
    stamps = []
    net.fit(train, epochs=1, progress=False, stop_after=max(8, int(45 * scale)),
            on_step=lambda *a: stamps.append(time.perf_counter()))
    kept = stamps[5:]
    res["cpp_trainer_cpu"] = {"batch": spec.get("training", {}).get("batch_size", 128), "steps": len(kept) - 1,
                              "steps_per_s": (len(kept) - 1) / (kept[-1] - kept[0]),
                              "note": "hddnn Network.fit (C++ nn::fit) on the CPU, augmentation on; "
                                      "excludes 5 warm-up steps"}
    print("A. C++ trainer, CPU:", res["cpp_trainer_cpu"], flush=True)
    return net


class ExportedSections:
    """B. The network's exported TorchScript sections, trained from Python on a device."""

    def __init__(self, net, spec: dict, train):
        import torch
        torch._C._set_graph_executor_optimize(False)
        self.export_dir = tempfile.mkdtemp()
        self.manifest = net.export(self.export_dir)
        self.weights = [[(e["labels"], e.get("weight", 1.0)) for e in s["exits"]] for s in spec["sections"]]
        self.train = train
        self.images = train.images[:, 0].contiguous()

    def load(self, dev):
        import torch
        mods = [torch.jit.load(os.path.join(self.export_dir, s["file"]), map_location=dev)
                for s in self.manifest["sections"]]
        for p in (p for m in mods for p in m.parameters()):
            p.requires_grad_(True)
        return mods

    @staticmethod
    def forward(mods, x):
        outs, h = [], x
        for m in mods:
            o = m(h)
            outs.append(o)
            h = o.get("features")
        return outs

    def loss_of(self, outs, yf, yc):
        import torch.nn.functional as F
        total = 0.0
        for o, ws in zip(outs, self.weights):
            for lab, w in ws:
                total = total + w * F.cross_entropy(o[lab], yf if lab == "fine" else yc)
        return total

    def bench(self, dev, batch: int, warm: int, steps: int, chunks: int = 3) -> dict:
        """Median steps/s over `chunks` timed chunks after `warm` untimed steps."""
        import torch
        mods = self.load(dev)
        for m in mods:
            m.train()
        params = [p for m in mods for p in m.parameters()]
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
        X, YF, YC = self.images.to(dev), self.train.fine.to(dev), self.train.coarse.to(dev)
        g = torch.Generator(device=dev).manual_seed(0)

        def step():
            idx = torch.randint(0, X.shape[0], (batch,), device=dev, generator=g)
            loss = self.loss_of(self.forward(mods, X[idx]), YF[idx], YC[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        for _ in range(warm):
            step()
        rates, per = [], max(1, steps // chunks)
        for _ in range(chunks):
            sync(dev)
            t = time.perf_counter()
            for _ in range(per):
                loss = step()
            sync(dev)
            rates.append(per / (time.perf_counter() - t))
        rates.sort()
        return {"batch": batch, "steps": per * chunks, "steps_per_s": rates[len(rates) // 2],
                "steps_per_s_range": [rates[0], rates[-1]], "samples_per_s": rates[len(rates) // 2] * batch,
                "last_loss": float(loss)}

    def compare_logits(self) -> dict:
        """The same weights' logits on the CPU and on CUDA (eval mode, TF32 off)."""
        import torch
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        x = self.images[:512]
        with torch.no_grad():
            cpu_mods, gpu_mods = self.load(torch.device("cpu")), self.load(torch.device("cuda"))
            for m in cpu_mods + gpu_mods:
                m.eval()
            a, b = self.forward(cpu_mods, x), self.forward(gpu_mods, x.cuda())
        agree = {}
        for s, oa, ob in zip(self.manifest["sections"], a, b):
            for lab in ("fine", "coarse"):
                if lab in oa:
                    la, lb = oa[lab], ob[lab].cpu()
                    agree[f"{s['name']}/{lab}"] = {
                        "rel_diff": float((la - lb).norm() / la.norm()),
                        "argmax_agree": float((la.argmax(1) == lb.argmax(1)).float().mean())}
        return agree


def sync(dev) -> None:
    """Waits for the device's queued work (a no-op on the CPU)."""
    import torch
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main(argv) -> int:
    """argv: SPEC.json OUT.json."""
    import torch
    spec_path, out_path = argv[0], argv[1]
    scale = float(os.environ.get("HDDNN_CHECK_SCALE", "1"))  # < 1: a quick dry run
    with open(spec_path) as f:
        spec = json.load(f)
    res = {"torch": torch.__version__, "cpu_threads": torch.get_num_threads(),
           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    train = training_data(res)
    net = time_cpp_trainer(spec_path, spec, train, scale, res)
    sections = ExportedSections(net, spec, train)
    plan = [("cpu", 128, 3, 30), ("cpu", 1024, 1, 6)]
    if torch.cuda.is_available():
        plan = [("cuda", 128, 20, 300), ("cuda", 1024, 10, 150)] + plan
    res["torchscript_sections"] = {}
    for dev_name, batch, warm, steps in plan:
        r = sections.bench(torch.device(dev_name), batch, max(1, int(warm * scale)), max(3, int(steps * scale)))
        res["torchscript_sections"][f"{dev_name}_b{batch}"] = r
        print(f"B. TorchScript sections, {dev_name}, batch {batch}:", r, flush=True)
    ts = res["torchscript_sections"]
    for b in (128, 1024):
        if f"cuda_b{b}" in ts:
            res[f"cuda_over_cpu_b{b}"] = ts[f"cuda_b{b}"]["steps_per_s"] / ts[f"cpu_b{b}"]["steps_per_s"]
    if "cuda_b128" in ts:
        res["cuda_b128_over_cpp_trainer_cpu"] = ts["cuda_b128"]["steps_per_s"] / res["cpp_trainer_cpu"]["steps_per_s"]
    if torch.cuda.is_available():
        res["cpu_vs_cuda_logits"] = sections.compare_logits()
        print("cpu vs cuda logits:", res["cpu_vs_cuda_logits"], flush=True)
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
