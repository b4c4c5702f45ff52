"""Model inversion at a boundary: what an honest-but-curious tier can rebuild from the
features an end device sends it.

The attack is He, Zhang and Lee's black-box inverse network ("Model inversion attacks
against collaborative inference", ACSAC 2019): the curious tier queries the end
section with images of the same distribution, trains a decoder from the features it
receives back to the images, and applies it to what real devices send.

Contract:
- ``boundary(model)`` is the end section's outgoing boundary in an exported model
  folder (``hddnn train --out`` / ``Network.export``): manifest.json's entry with
  ``quantization``, ``shape`` (C x h x w) and ``bytes_per_sample`` (the packed wire size).
- ``boundary_features(model, images)`` runs the exported ``end.pt`` (TorchScript, the
  section the runtime runs) on images N x 1 x H x W in [0, 1] and returns its
  ``"features"``: already quantized (±1 for 1bit, the 255-step grid for 8bit), i.e.
  exactly the values the wire carries. Single-view models only.
- ``Decoder(shape, image_size)`` maps C x h x w features to 1 x H x W images in [0, 1].
- ``train_decoder`` fits a decoder with mean squared error (Adam), seeded; it returns
  the decoder in eval mode and the seconds spent.
- ``psnr`` and ``ssim`` score images N x 1 x H x W in [0, 1] (data range 1), one value
  per image: PSNR = 10 log10(1 / MSE), +inf for identical images; SSIM as defined by
  Wang, Bovik, Sheikh and Simoncelli (IEEE TIP 2004): an 11 x 11 Gaussian window with
  sigma 1.5, K1 = 0.01, K2 = 0.03, averaged over the window positions inside the image.
- ``score(reconstructions, originals)`` gives the means over the images: ``mse``,
  ``psnr_db`` (None when infinite: every image rebuilt exactly) and ``ssim``.
"""
import json
import math
import os
import time

import torch
import torch.nn.functional as F

SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03


# ---- the boundary -------------------------------------------------------------------

def boundary(model):
    """manifest.json's boundary leaving the end section of the exported `model` folder."""
    with open(os.path.join(model, "manifest.json")) as f:
        manifest = json.load(f)
    return next(b for b in manifest["boundaries"] if b["from"] == "end")


def boundary_features(model, images, batch_size=1000):
    """The features end.pt sends for `images` (N x 1 x H x W), computed without gradients."""
    end = torch.jit.load(os.path.join(model, "end.pt"))
    end.eval()
    with torch.no_grad():
        return torch.cat([end(chunk)["features"] for chunk in images.split(batch_size)])


# ---- the decoder --------------------------------------------------------------------

def conv_bn_relu(channels_in, channels_out):
    return [torch.nn.Conv2d(channels_in, channels_out, 3, padding=1), torch.nn.BatchNorm2d(channels_out),
            torch.nn.ReLU()]


class Decoder(torch.nn.Module):
    """Features C x h x w -> image 1 x H x W in [0, 1]: two 3x3 convolutions to `width`
    channels, then per doubling of the map (until it is at least the image's size) a
    nearest-neighbour upsampling and a 3x3 convolution halving the channels (each
    convolution followed by batch norm and ReLU), a 3x3 convolution to one channel,
    bilinear resizing when the sizes differ, and a sigmoid. (Upsampling and convolution
    rather than transposed convolutions: torch's CPU transposed convolution is several
    times slower.)"""

    def __init__(self, shape, image_size=(28, 28), width=32):
        super().__init__()
        channels, height, _ = shape
        layers = conv_bn_relu(channels, width) + conv_bn_relu(width, width)
        while height < max(image_size):
            layers += [torch.nn.Upsample(scale_factor=2), *conv_bn_relu(width, width // 2)]
            width, height = width // 2, height * 2
        layers.append(torch.nn.Conv2d(width, 1, 3, padding=1))
        self.body = torch.nn.Sequential(*layers)
        self.image_size = tuple(image_size)

    def forward(self, features):
        out = self.body(features)
        if tuple(out.shape[-2:]) != self.image_size:
            out = F.interpolate(out, size=self.image_size, mode="bilinear", align_corners=False)
        return torch.sigmoid(out)


def train_decoder(features, images, *, epochs, batch_size=128, lr=5e-3, width=32, seed=0):
    """A Decoder fitted to map `features` to `images` (MSE, Adam, a cosine-decayed
    learning rate, shuffled batches). Returns (decoder in eval mode, seconds)."""
    start = time.perf_counter()
    torch.manual_seed(seed)
    decoder = Decoder(tuple(features.shape[1:]), tuple(images.shape[-2:]), width)
    steps_per_epoch = math.ceil(len(features) / batch_size)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * steps_per_epoch)
    order = torch.Generator().manual_seed(seed)
    decoder.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(features), generator=order).split(batch_size):
            loss = F.mse_loss(decoder(features[batch]), images[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return decoder.eval(), time.perf_counter() - start


def reconstruct(decoder, features, batch_size=1000):
    with torch.no_grad():
        return torch.cat([decoder(chunk) for chunk in features.split(batch_size)])


# ---- image quality ------------------------------------------------------------------

def psnr(x, y):
    """Peak signal-to-noise ratio in dB per image (data range 1); +inf where x == y."""
    mse = (x - y).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse)


def gaussian_window(size=SSIM_WINDOW, sigma=SSIM_SIGMA):
    """The normalised size x size Gaussian window, shaped 1 x 1 x size x size."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    line = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    window = torch.outer(line, line)
    return (window / window.sum()).view(1, 1, size, size)


def ssim(x, y):
    """Structural similarity per image (Wang et al. 2004; see the module docstring)."""
    x, y = x.double(), y.double()
    window = gaussian_window()

    def local_mean(z):
        return F.conv2d(z, window)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x ** 2
    var_y = local_mean(y * y) - mu_y ** 2
    cov = local_mean(x * y) - mu_x * mu_y
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return index.flatten(1).mean(1)


def score(reconstructions, originals):
    """Means over the images: mse, psnr_db (None when infinite) and ssim."""
    mean_psnr = float(psnr(reconstructions, originals).mean())
    return {"mse": float((reconstructions - originals).pow(2).mean()),
            "psnr_db": mean_psnr if math.isfinite(mean_psnr) else None,
            "ssim": float(ssim(reconstructions, originals).mean())}
