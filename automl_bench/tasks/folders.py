"""Image tasks read from a folder the user gives: CIFAR-10's python batches, or an ImageFolder tree.

Nothing is downloaded and torchvision is not needed. CIFAR-10's batches are pickles, read with an
unpickler that can only rebuild what those files hold (a dict of bytes keys, a NumPy uint8 array,
lists of ints and bytes): a file that asks for anything else (``os.system``, ...) is refused before
any of it runs. Every problem with a folder is a ``ConfigError`` on one line that names the path and
the layout expected.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from automl_bench.errors import ConfigError
from automl_bench.tasks.base import TaskArrays, TaskInfo

FOLDER_TASKS = ("cifar10", "image_folder")

# ---------------------------------------------------------------------------------------- CIFAR-10

CIFAR_DIR = "cifar-10-batches-py"
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_FILES = (*CIFAR_TRAIN, "test_batch", "batches.meta")
CIFAR_LAYOUT = (
    f"expected {CIFAR_DIR} with data_batch_1..5, test_batch and batches.meta "
    "(the python version of CIFAR-10, extracted)"
)
CIFAR_PIXELS = 3 * 32 * 32
CIFAR_CLASSES = 10
_CACHE_FORMAT = "cifar10-v1"

# x (N, 3, 32, 32) uint8, y, x_test, y_test: what the cache holds
_Raw = tuple[
    npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.int64]
]


def _latin1_encode(text: object, encoding: object = "utf-8", /) -> bytes:
    """``_codecs.encode`` as Python 3 pickles ``bytes`` at protocol 2 (``encode(s, 'latin1')``),
    and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only as encode(str, 'latin1')")
    return text.encode("latin-1")


def _empty_bytes(*args: object) -> bytes:
    """``bytes()``, as Python 3 pickles an empty ``bytes`` at protocol 2, and nothing else."""
    if args:
        raise pickle.UnpicklingError("bytes is allowed only as bytes()")
    return b""


def _array_rebuilder(protocol: int) -> Callable[..., Any]:
    """The function this NumPy pickles an array with at ``protocol`` (by object, not by name)."""
    reduced = np.zeros(1).__reduce_ex__(protocol)
    if not isinstance(reduced, tuple) or not callable(reduced[0]):
        raise RuntimeError(f"unexpected numpy array pickle: {reduced!r}")
    rebuild: Callable[..., Any] = reduced[0]
    return rebuild


_reconstruct = _array_rebuilder(2)  # numpy(._)core.multiarray._reconstruct
_frombuffer = _array_rebuilder(5)  # numpy(._)core.numeric._frombuffer

# The only globals a CIFAR-10 pickle may name. The official files (Python 2, protocol 2) name
# numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype; the rest covers the same dict
# pickled again by NumPy 2 (numpy._core), at protocol 5 (_frombuffer) or by Python 3 at protocol 2
# (bytes as _codecs.encode(str, 'latin1')). None of them can run code or import a module.
PICKLE_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle named a global outside ``PICKLE_ALLOWED``; nothing it asked for was run."""

    def __init__(self, module: str, name: str) -> None:
        self.qualified = f"{module}.{name}"
        super().__init__(f"refused global {self.qualified}")


class CifarUnpickler(pickle.Unpickler):
    """An unpickler that resolves only ``PICKLE_ALLOWED`` (and persistent ids not at all)."""

    def find_class(self, module: str, name: str, /) -> Any:
        found = PICKLE_ALLOWED.get((module, name))
        if found is None:
            raise RefusedGlobal(module, name)
        return found


def _load_pickle(path: Path, field: str) -> object:
    try:
        with path.open("rb") as f:
            return CifarUnpickler(f, encoding="bytes").load()
    except RefusedGlobal as e:
        raise ConfigError(
            field,
            f"'{path}' is refused: it asks for {e.qualified}, which no CIFAR-10 file needs, "
            f"and it was not run; {CIFAR_LAYOUT}",
        ) from e
    except Exception as e:  # any failure inside a user's file is bad input, not a crash
        raise ConfigError(
            field,
            f"'{path}' is not a readable CIFAR-10 pickle ({type(e).__name__}: {str(e)[:200]}); "
            f"{CIFAR_LAYOUT}",
        ) from e


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _read_batch(path: Path, field: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """One batch's pixels (N x 3072 uint8) and labels (N int64), checked."""
    batch = _load_pickle(path, field)

    def bad(what: str) -> ConfigError:
        return ConfigError(
            field,
            f"'{path}' is not a CIFAR-10 batch: {what}; expected a dict with b'data' "
            f"(N x {CIFAR_PIXELS} uint8) and b'labels' (N ints 0-{CIFAR_CLASSES - 1})",
        )

    if not isinstance(batch, dict):
        raise bad(f"it holds {_describe(batch)}, not a dict")
    for key in (b"data", b"labels"):
        if key not in batch:
            raise bad(f"no {key!r} key (keys: {sorted(map(repr, batch))[:6]})")
    data = batch[b"data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != CIFAR_PIXELS
    ):
        raise bad(f"b'data' is {_describe(data)}")
    raw = batch[b"labels"]
    try:
        labels = np.asarray(raw) if isinstance(raw, list | tuple | np.ndarray) else None
    except (ValueError, TypeError, OverflowError):
        labels = None
    if labels is None or labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise bad(f"b'labels' is {_describe(raw)}, not a list of ints")
    if len(labels) != len(data):
        raise bad(f"{len(labels)} labels for {len(data)} images")
    outside = np.flatnonzero((labels < 0) | (labels >= CIFAR_CLASSES))
    if outside.size:
        i = int(outside[0])
        raise bad(f"label {int(labels[i])} at index {i} is outside 0-{CIFAR_CLASSES - 1}")
    return np.ascontiguousarray(data), labels.astype(np.int64)


def _read_meta(path: Path, field: str) -> tuple[str, ...]:
    meta = _load_pickle(path, field)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if (
        not isinstance(names, list)
        or len(names) != CIFAR_CLASSES
        or not all(isinstance(n, bytes | str) for n in names)
    ):
        raise ConfigError(
            field,
            f"'{path}' is not CIFAR-10's batches.meta: expected a dict whose b'label_names' is a "
            f"list of {CIFAR_CLASSES} names, found {_describe(names)}",
        )
    return tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names)


def _cifar_root(path: Path, field: str) -> Path:
    if not path.exists():
        raise ConfigError(field, f"'{path}' does not exist; {CIFAR_LAYOUT}")
    if not path.is_dir():
        raise ConfigError(field, f"'{path}' is not a folder; {CIFAR_LAYOUT}")
    if not (path / CIFAR_FILES[0]).exists() and (path / CIFAR_DIR).is_dir():
        path = path / CIFAR_DIR  # the folder the archive extracts into
    for name in CIFAR_FILES:
        if not (path / name).is_file():
            raise ConfigError(
                field, f"'{path}' is not a CIFAR-10 python folder: no {name}; {CIFAR_LAYOUT}"
            )
    return path


class Cifar10Folder:
    """CIFAR-10 from a local ``cifar-10-batches-py`` folder: 50,000 train images (validation is
    drawn from them by seed), and the official 10,000 test images kept as the test split."""

    info = TaskInfo(
        name="cifar10",
        input_shape=(3, 32, 32),
        num_classes=CIFAR_CLASSES,
        default_trials=20,
        default_epochs=20,
        standardize=False,
    )

    def __init__(self, path: Path | str, field: str = "data_dir") -> None:
        self.field = field
        self.path = _cifar_root(Path(path).expanduser(), field)
        self._class_names: tuple[str, ...] | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        """The ten names from ``batches.meta`` (read on first use)."""
        if self._class_names is None:
            self._class_names = _read_meta(self.path / "batches.meta", self.field)
        return self._class_names

    def arrays(self, cache_dir: Path) -> TaskArrays:
        """Pixels as float32 in [0, 1], shape (N, 3, 32, 32); decoded once, then read back from a
        cache in ``cache_dir`` keyed by the folder and its files' sizes and times."""
        cache = cache_dir / f"cifar10-{self._fingerprint()}.npz"
        raw = _read_cache(cache)
        if raw is None:
            raw = self._decode()
            _write_cache(cache, raw)
        x, y, x_test, y_test = raw
        return TaskArrays(x=_to_unit(x), y=y, x_test=_to_unit(x_test), y_test=y_test)

    def _decode(self) -> _Raw:
        self._class_names = _read_meta(self.path / "batches.meta", self.field)
        batches = [_read_batch(self.path / name, self.field) for name in CIFAR_TRAIN]
        x = np.concatenate([b[0] for b in batches]).reshape(-1, 3, 32, 32)
        y = np.concatenate([b[1] for b in batches])
        test_x, test_y = _read_batch(self.path / "test_batch", self.field)
        return x, y, test_x.reshape(-1, 3, 32, 32), test_y

    def _fingerprint(self) -> str:
        parts = [_CACHE_FORMAT, str(self.path.resolve())]
        for name in CIFAR_FILES:
            try:
                st = (self.path / name).stat()
            except OSError as e:
                raise ConfigError(
                    self.field,
                    f"'{self.path / name}' cannot be read ({e.strerror}); {CIFAR_LAYOUT}",
                ) from e
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def _to_unit(x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    out = x.astype(np.float32, order="C")
    out /= np.float32(255.0)
    return out


def _read_cache(path: Path) -> _Raw | None:
    """The cached uint8 arrays, or None when absent or unreadable (then the folder is decoded)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return (
                f["x"].astype(np.uint8, copy=False),
                f["y"].astype(np.int64, copy=False),
                f["x_test"].astype(np.uint8, copy=False),
                f["y_test"].astype(np.int64, copy=False),
            )
    except Exception:  # a damaged cache is rebuilt, never trusted
        return None


def _write_cache(path: Path, raw: _Raw) -> None:
    """Written atomically (concurrent workers never read half a file); a cache that cannot be
    written (read-only disk, full disk) only costs the next call its decoding time."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as out:
            np.savez(out, x=raw[0], y=raw[1], x_test=raw[2], y_test=raw[3])
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ ImageFolder

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif"})
IMAGE_LAYOUT = (
    "expected <root>/<class>/<images>, or <root>/train/<class>/<images> with "
    "<root>/test/<class>/<images>; at least 2 class folders, each with at least one "
    ".png, .jpg, .jpeg, .bmp or .gif image, all of one size"
)
GRAY_MODES = frozenset({"1", "L", "LA"})
COLOR_MODES = frozenset({"P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr"})


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _scan_split(root: Path, field: str) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (sorted) and (file, label) pairs of one ``<root>/<class>/<images>`` tree.
    Only images directly in a class folder count; other files and hidden entries are skipped."""
    try:
        return _scan_entries(root, field)
    except OSError as e:  # an entry that cannot be read: a symlink loop, no permission
        where = e.filename if e.filename is not None else root
        raise ConfigError(
            field, f"'{where}' cannot be read ({e.strerror or e}); {IMAGE_LAYOUT}"
        ) from e


def _scan_entries(root: Path, field: str) -> tuple[list[str], list[tuple[Path, int]]]:
    with os.scandir(root) as it:
        classes = sorted(e.name for e in it if _visible(e.name) and e.is_dir())
    if len(classes) < 2:
        found = ", ".join(classes) if classes else "none"
        raise ConfigError(
            field,
            f"'{root}' has {len(classes)} class folder(s) ({found}); at least 2 are needed; "
            f"{IMAGE_LAYOUT}",
        )
    samples: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = root / name
        with os.scandir(folder) as it:
            entries = [e for e in it if _visible(e.name)]
        images = sorted(
            e.name
            for e in entries
            if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES and e.is_file()
        )
        if not images:
            nested = any(e.is_dir() for e in entries)
            hint = " (subfolders are not searched)" if nested else ""
            raise ConfigError(field, f"class folder '{folder}' has no images{hint}; {IMAGE_LAYOUT}")
        samples.extend((folder / image, label) for image in images)
    return classes, samples


def _header(path: Path, field: str) -> tuple[tuple[int, int], str]:
    """(width, height) and mode, from the file's header only (PIL decodes pixels lazily)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except Exception as e:
        raise ConfigError(
            field, f"'{path}' is not a readable image ({type(e).__name__}: {str(e)[:200]})"
        ) from e


class ImageFolder:
    """Images from ``<root>/<class>/*`` (test split drawn by seed), or from ``<root>/train`` and
    ``<root>/test`` with the same class folders (the test folder is the test split).

    Labels follow the sorted class-folder names (``class_names``). Images load as one channel when
    every one is grayscale, else as RGB (alpha dropped); float32 in [0, 1], shape (N, C, H, W).
    """

    def __init__(self, path: Path | str, field: str = "data_dir") -> None:
        self.field = field
        root = Path(path).expanduser()
        if not root.exists():
            raise ConfigError(field, f"'{root}' does not exist; {IMAGE_LAYOUT}")
        if not root.is_dir():
            raise ConfigError(field, f"'{root}' is not a folder; {IMAGE_LAYOUT}")
        self.path = root
        split = (root / "train").is_dir() and (root / "test").is_dir()
        train_root = root / "train" if split else root
        self.class_names, self._train = _scan_split(train_root, field)
        self._test: list[tuple[Path, int]] | None = None
        if split:
            test_classes, self._test = _scan_split(root / "test", field)
            if test_classes != self.class_names:
                raise ConfigError(
                    field,
                    f"'{root / 'test'}' has classes {test_classes} but '{train_root}' has "
                    f"{self.class_names}; the test folder must have the same class folders",
                )
        (width, height), self.mode = self._scan_headers()
        channels = 1 if self.mode == "L" else 3
        self.info = TaskInfo(
            name="image_folder",
            input_shape=(channels, height, width),
            num_classes=len(self.class_names),
            default_trials=20,
            default_epochs=20,
        )

    def _scan_headers(self) -> tuple[tuple[int, int], str]:
        """The common size and the mode images load in ("L" or "RGB"); one header per file."""
        first: Path | None = None
        size = (0, 0)
        gray = True
        for path, _ in self._train + (self._test or []):
            this_size, mode = _header(path, self.field)
            if mode not in GRAY_MODES and mode not in COLOR_MODES:
                raise ConfigError(
                    self.field,
                    f"'{path}' has pixel mode {mode}, which is not read (8-bit grayscale, "
                    "palette or colour images only); save it as 8-bit",
                )
            gray = gray and mode in GRAY_MODES
            if first is None:
                first, size = path, this_size
            elif this_size != size:
                raise ConfigError(
                    self.field,
                    f"'{path}' is {this_size[0]}x{this_size[1]} pixels but '{first}' is "
                    f"{size[0]}x{size[1]}; every image must have the same size "
                    f"(expected {size[0]}x{size[1]}, width x height)",
                )
        return size, "L" if gray else "RGB"

    def arrays(self, cache_dir: Path) -> TaskArrays:
        x, y = self._load(self._train)
        if self._test is None:
            return TaskArrays(x=x, y=y)
        x_test, y_test = self._load(self._test)
        return TaskArrays(x=x, y=y, x_test=x_test, y_test=y_test)

    def _load(
        self, samples: Sequence[tuple[Path, int]]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        from PIL import Image

        channels, height, width = self.info.input_shape
        pixels = np.empty((len(samples), height, width, channels), dtype=np.uint8)
        for i, (path, _) in enumerate(samples):
            try:
                with Image.open(path) as image:
                    decoded = np.asarray(image.convert(self.mode), dtype=np.uint8)
            except Exception as e:
                raise ConfigError(
                    self.field,
                    f"'{path}' is not a readable image ({type(e).__name__}: {str(e)[:200]})",
                ) from e
            if decoded.shape[:2] != (height, width):  # a header that lied about the size
                raise ConfigError(
                    self.field,
                    f"'{path}' decodes to {decoded.shape[1]}x{decoded.shape[0]} pixels; "
                    f"expected {width}x{height}",
                )
            pixels[i] = decoded.reshape(height, width, channels)
        x = _to_unit(pixels.transpose(0, 3, 1, 2))
        y = np.fromiter((label for _, label in samples), dtype=np.int64, count=len(samples))
        return x, y


def open_folder_task(
    kind: str, path: str | Path, field: str = "data_dir"
) -> Cifar10Folder | ImageFolder:
    """The image task ``kind`` (one of ``FOLDER_TASKS``) read from ``path``."""
    if kind == "cifar10":
        return Cifar10Folder(Path(path), field)
    if kind == "image_folder":
        return ImageFolder(Path(path), field)
    raise ConfigError(
        "task", f"{kind!r} is not a folder task; expected one of {', '.join(FOLDER_TASKS)}"
    )


def check_contents(task: object) -> None:
    """Read every file of a folder task once, so that a corrupt one (a truncated pickle or image)
    is refused before anything starts, not mid-run; other tasks have nothing to read."""
    if isinstance(task, Cifar10Folder):
        task._decode()
    elif isinstance(task, ImageFolder):
        task.arrays(Path(os.devnull))  # nothing cached: an ImageFolder has no cache
