# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Thresholds of the GPU checks per GPU model, from public figures (pure data and a lookup).

A GPU's model is the first key of MODELS whose name appears in the name nvidia-smi reports
("NVIDIA H100 80GB HBM3" is H100; GB200 is tried before B200). The setting ``gpu_model`` forces one;
``gpu_thresholds`` (a dict) overrides any key for every model. A key that is None has no public figure:
the check that needs it skips and says which setting to give.

Sources (AzureHPC Node Health Checks, Azure/azurehpc-health-checks, conf/<VM size>.conf, the values its
checks are called with on that VM size; 8 GPUs per VM except GB200's 4):
- A100: conf/nd96amsr_a100_v4.conf: check_cuda_bw 24, check_gpu_ecc 20000000 10000,
  check_nccl_allreduce 228.0 (4G), check_hw_ib 200, check_ib_bw_gdr 185.0, loopback 18.0.
- H100: conf/nd96isr_h100_v5.conf: check_cuda_bw 52, check_gpu_ecc 20000000 10000,
  check_nccl_allreduce 460.0 (16G), check_hw_ib 400, check_ib_bw_gdr 375, loopback 40.0.
- H200: conf/nd96isr_h200_v5.conf: check_gpu_bw 48 335, check_gpu_ecc 20000000 10000,
  check_nccl_allreduce 431.0 (16G), check_hw_ib 400, check_ib_bw_gdr 360.
- GB200 (B200 GPUs on Grace): conf/nd128isr_ndr_gb200_v6.conf: check_gpu_bw 48 335,
  check_gpu_ecc 20000000 10000, check_nccl_allreduce 432.0 (16G), loopback 48.0, check_hw_ib 400,
  check_ib_bw_gdr 360.
- B200 (HGX B200 on x86): no public health-check figures found; only the ECC limits (the same in every
  conf above) apply, the bandwidth probes skip until ``gpu_thresholds`` gives them.
- ECC: customTests/azure_gpu_ecc.nhc fails on any uncorrectable SRAM error, on more correctable SRAM
  errors than its second argument (10000), on DRAM counts above its first (20000000) and on more than
  512 uncorrectable remapped rows.
- PCIe generation of the GPU's host link: NVIDIA's data sheets (A100: PCIe Gen4 64 GB/s; H100 and H200
  SXM: PCIe Gen5 128 GB/s). None where not found.
"""

from __future__ import annotations

# What a model does not say falls back to DEFAULTS (the ECC limits are the same for every model above).
DEFAULTS = {
    "ecc_sram_uncorrected_max": 0,
    "ecc_sram_corrected_max": 10000,
    "ecc_dram_max": 20000000,
    "row_remap_uncorrectable_max": 512,
    "pcie_gen": None,
    "h2d_gbps_min": None,
    "p2p_gbps_min": None,
    "nccl_busbw_gbps_min": None,
    "nccl_bytes": "16G",
    "ib_rate_gbps": None,
    "gdr_loopback_gbps_min": None,
}

MODELS = {
    "A100": {
        "pcie_gen": 4,
        "h2d_gbps_min": 24,
        "nccl_busbw_gbps_min": 228.0,
        "nccl_bytes": "4G",
        "ib_rate_gbps": 200,
        "gdr_loopback_gbps_min": 18.0,
    },
    "H100": {
        "pcie_gen": 5,
        "h2d_gbps_min": 52,
        "nccl_busbw_gbps_min": 460.0,
        "ib_rate_gbps": 400,
        "gdr_loopback_gbps_min": 40.0,
    },
    "H200": {"pcie_gen": 5, "h2d_gbps_min": 48, "p2p_gbps_min": 335, "nccl_busbw_gbps_min": 431.0, "ib_rate_gbps": 400},
    "GB200": {
        "h2d_gbps_min": 48,
        "p2p_gbps_min": 335,
        "nccl_busbw_gbps_min": 432.0,
        "ib_rate_gbps": 400,
        "gdr_loopback_gbps_min": 48.0,
    },
    "B200": {},
}


def model_of(name):
    """The MODELS key whose name is in the GPU's name, or None."""
    text = (name or "").upper()
    for key in sorted(MODELS, key=len, reverse=True):
        if key in text:
            return key
    return None


def thresholds(model, overrides=None):
    """Every threshold for a model (None: unknown model), the operator's overrides applied last."""
    values = dict(DEFAULTS)
    values.update(MODELS.get(model, {}))
    values.update(overrides or {})
    return values
