"""Lets pytorch-grad-cam import when torchvision cannot.

PyPI's torchvision wheels are CUDA builds: with the CPU-only torch that this machine can
install (a local wheel), torchvision's C extension does not load and `import torchvision`
fails. pytorch-grad-cam imports it only for helpers the benchmark never calls (image
transforms, SESS's resize, detection targets), so `install()` puts an empty stand-in in
sys.modules when the real one does not import. Any call into it raises, so a benchmark can
never silently use it.
"""
import sys
import types


def _unavailable(*_args, **_kwargs):
    raise RuntimeError("torchvision is not usable here (CUDA build); the benchmark should not call it")


def install():
    try:
        import torchvision  # noqa: F401
        return False
    except Exception:
        for name in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[name]
    root = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    ops = types.ModuleType("torchvision.ops")
    transforms.Compose = transforms.Normalize = transforms.ToTensor = _unavailable
    functional.resize = _unavailable
    ops.box_iou = _unavailable
    transforms.functional = functional
    root.transforms, root.ops = transforms, ops
    sys.modules.update({"torchvision": root, "torchvision.transforms": transforms,
                        "torchvision.transforms.functional": functional, "torchvision.ops": ops})
    return True
