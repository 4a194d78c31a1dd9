"""Image tasks read from a user's folder: CIFAR-10 python batches and ImageFolder trees."""

from __future__ import annotations

import io
import os
import pickle
import struct
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from automl_bench.errors import ConfigError
from automl_bench.tasks import load_task, make_splits
from automl_bench.tasks.folders import (
    FOLDER_TASKS,
    Cifar10Folder,
    CifarUnpickler,
    ImageFolder,
    open_folder_task,
)

PER_BATCH = 20  # the loader must not assume CIFAR's 10,000 per batch
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer"]
NAMES += [b"dog", b"frog", b"horse", b"ship", b"truck"]


def assert_refused(
    err: pytest.ExceptionInfo[ConfigError], path: Path, field: str = "data_dir"
) -> None:
    """The error is a ConfigError on one line that names ``path``."""
    message = str(err.value)
    assert err.value.field == field
    assert "\n" not in message and "Traceback" not in message
    assert str(path) in message, message


# -------------------------------------------------------------------------------- CIFAR fixtures


class _Py2Pickler(pickle._Pickler):
    """Pickles as Python 2's cPickle wrote the official files: bytes and str as BINSTRING (no
    ``_codecs.encode``), arrays under ``numpy.core.multiarray``."""

    dispatch: ClassVar[dict[type, Any]] = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)  # type: ignore[attr-defined]
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)  # type: ignore[attr-defined]
        self.memoize(obj)  # type: ignore[attr-defined]

    def save_str(self, obj: str) -> None:
        self.save_bytes(obj.encode("latin-1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def dump(obj: object, path: Path, style: str = "py3-protocol2") -> None:
    if style == "py2":
        buf = io.BytesIO()
        _Py2Pickler(buf, protocol=2).dump(obj)
        data = buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
        assert b"_codecs" not in data and b"numpy._core" not in data
    else:
        data = pickle.dumps(obj, protocol=2 if style == "py3-protocol2" else 5)
    path.write_bytes(data)


def batch(data: Any, labels: Any, label: bytes = b"training batch") -> dict[bytes, Any]:
    n = len(labels) if isinstance(labels, list) else 0
    return {
        b"batch_label": label,
        b"labels": labels,
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def write_cifar(root: Path, style: str = "py3-protocol2", seed: int = 0) -> dict[str, Any]:
    """A CIFAR-10 python folder with ``PER_BATCH`` images a batch; returns what it holds."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    written: dict[str, Any] = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.permutation(np.arange(PER_BATCH) % 10)]
        dump(batch(data, labels), root / name, style)
        written[name] = (data, labels)
    dump({b"num_cases_per_batch": PER_BATCH, b"label_names": NAMES, b"num_vis": 3072},
         root / "batches.meta", style)  # fmt: skip
    return written


@pytest.fixture()
def cifar(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    root = tmp_path / "cifar-10-batches-py"
    return root, write_cifar(root)


# ---------------------------------------------------------------------------------- CIFAR tests


@pytest.mark.parametrize("style", ["py2", "py3-protocol2", "protocol5"])
def test_cifar_reads_the_python_batches(tmp_path: Path, style: str) -> None:
    root = tmp_path / "cifar-10-batches-py"
    written = write_cifar(root, style)
    task = Cifar10Folder(root)
    assert task.info.name == "cifar10" and task.info.input_shape == (3, 32, 32)
    assert task.info.num_classes == 10 and task.info.standardize is False
    arrays = task.arrays(tmp_path / "cache")

    assert arrays.x.shape == (5 * PER_BATCH, 3, 32, 32) and arrays.x.dtype == np.float32
    assert arrays.y.dtype == np.int64 and arrays.x.flags.c_contiguous
    assert arrays.x_test is not None and arrays.y_test is not None
    assert arrays.x_test.shape == (PER_BATCH, 3, 32, 32)
    assert arrays.x.min() >= 0.0 and arrays.x.max() <= 1.0
    train = [written[f"data_batch_{i}"] for i in range(1, 6)]
    assert arrays.y.tolist() == [label for _, labels in train for label in labels]
    assert arrays.y_test.tolist() == written["test_batch"][1]
    # row-major channel planes: byte c*1024 + r*32 + k of image i is pixel (c, r, k)
    data3 = written["data_batch_3"][0]
    for i, c, r, k in [(7, 2, 5, 11), (0, 0, 0, 0), (19, 1, 31, 30), (3, 2, 31, 31)]:
        value = data3[i, c * 1024 + r * 32 + k]
        assert arrays.x[2 * PER_BATCH + i, c, r, k] == np.float32(value) / np.float32(255)
    test_data = written["test_batch"][0]
    assert arrays.x_test[4, 1, 2, 3] == np.float32(test_data[4, 1024 + 2 * 32 + 3]) / 255
    np.testing.assert_array_equal(arrays.x_test * 255, test_data.reshape(-1, 3, 32, 32))
    assert task.class_names == tuple(n.decode() for n in NAMES)


def test_cifar_keeps_its_test_batch_as_the_test_split(
    cifar: tuple[Path, Any], tmp_path: Path
) -> None:
    arrays = Cifar10Folder(cifar[0]).arrays(tmp_path / "cache")
    assert arrays.x_test is not None
    for seed in (0, 1):
        splits = make_splits(arrays, seed)
        np.testing.assert_array_equal(splits.x_test, arrays.x_test)
        assert len(splits.x_train) + len(splits.x_val) == 5 * PER_BATCH


def test_cifar_is_decoded_once_then_read_from_the_cache(
    cifar: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, written = cifar
    cache = tmp_path / "cache"
    first = Cifar10Folder(root).arrays(cache)
    assert len(list(cache.glob("cifar10-*.npz"))) == 1

    def no_decoding(self: Cifar10Folder) -> None:
        raise AssertionError("decoded again")

    with monkeypatch.context() as m:
        m.setattr(Cifar10Folder, "_decode", no_decoding)
        again = Cifar10Folder(root).arrays(cache)
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.y_test, again.y_test)

    # a changed file is a new key: decoded again, never stale
    data, labels = written["data_batch_1"]
    changed = 255 - data
    dump(batch(changed, labels), root / "data_batch_1")
    os.utime(root / "data_batch_1", ns=(1, 1))
    fresh = Cifar10Folder(root).arrays(cache)
    np.testing.assert_array_equal(fresh.x[:PER_BATCH] * 255, changed.reshape(-1, 3, 32, 32))


def test_cifar_rebuilds_a_damaged_cache(cifar: tuple[Path, Any], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Cifar10Folder(cifar[0]).arrays(cache)
    (cached,) = cache.glob("cifar10-*.npz")
    cached.write_bytes(b"not a zip")
    np.testing.assert_array_equal(Cifar10Folder(cifar[0]).arrays(cache).x, first.x)


def test_cifar_accepts_the_folder_that_holds_the_batches_folder(
    cifar: tuple[Path, Any], tmp_path: Path
) -> None:
    task = open_folder_task("cifar10", str(cifar[0].parent))
    assert isinstance(task, Cifar10Folder) and task.path == cifar[0]


def test_cifar_missing_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="does not exist") as err:
        Cifar10Folder(missing)
    assert_refused(err, missing)
    a_file = tmp_path / "cifar-10-python.tar.gz"
    a_file.write_bytes(b"")
    with pytest.raises(ConfigError, match="is not a folder") as err:
        Cifar10Folder(a_file, field="task.data_dir")
    assert_refused(err, a_file, field="task.data_dir")


def test_cifar_missing_batch_is_refused_by_the_constructor(cifar: tuple[Path, Any]) -> None:
    root = cifar[0]
    (root / "data_batch_3").unlink()
    with pytest.raises(ConfigError) as err:
        Cifar10Folder(root)
    assert_refused(err, root)
    assert err.value.message == (
        f"'{root}' is not a CIFAR-10 python folder: no data_batch_3; expected "
        "cifar-10-batches-py with data_batch_1..5, test_batch and batches.meta "
        "(the python version of CIFAR-10, extracted)"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (batch(np.zeros((PER_BATCH, 3071), np.uint8), [0] * PER_BATCH), "b'data' is a uint8"),
        (batch(np.zeros((PER_BATCH, 3072), np.float32), [0] * PER_BATCH), "b'data' is a float32"),
        (batch(np.zeros((2, 3072), np.uint8), [0, 10]), "label 10 at index 1 is outside 0-9"),
        (batch(np.zeros((2, 3072), np.uint8), [-1, 0]), "label -1 at index 0"),
        (batch(np.zeros((2, 3072), np.uint8), [0]), "1 labels for 2 images"),
        (batch(np.zeros((2, 3072), np.uint8), [0.5, 1.0]), "b'labels' is a list, not a list"),
        (batch(np.zeros((2, 3072), np.uint8), "ab"), "b'labels' is a str"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]}, "no b'labels' key"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, "no b'data' key"),
        ([1, 2, 3], "it holds a list, not a dict"),
    ],
)
def test_cifar_malformed_batch_is_refused_naming_the_file(
    cifar: tuple[Path, Any], tmp_path: Path, content: object, expected: str
) -> None:
    bad = cifar[0] / "data_batch_4"
    dump(content, bad)
    task = Cifar10Folder(cifar[0])  # the constructor only checks the files are there
    with pytest.raises(ConfigError, match="not a CIFAR-10 batch") as err:
        task.arrays(tmp_path / "cache")
    assert expected in err.value.message
    assert_refused(err, bad)
    assert not list((tmp_path / "cache").glob("*.npz"))  # nothing half-read is cached


def test_cifar_truncated_or_foreign_file_is_refused(
    cifar: tuple[Path, Any], tmp_path: Path
) -> None:
    bad = cifar[0] / "test_batch"
    bad.write_bytes(bad.read_bytes()[:500])
    with pytest.raises(ConfigError, match="not a readable CIFAR-10 pickle") as err:
        Cifar10Folder(cifar[0]).arrays(tmp_path / "cache")
    assert_refused(err, bad)
    bad.write_text("this is a text file\n")
    with pytest.raises(ConfigError, match="not a readable CIFAR-10 pickle") as err:
        Cifar10Folder(cifar[0]).arrays(tmp_path / "cache")
    assert_refused(err, bad)


def test_cifar_malformed_meta_is_refused(cifar: tuple[Path, Any], tmp_path: Path) -> None:
    meta = cifar[0] / "batches.meta"
    dump({b"label_names": NAMES[:9]}, meta)
    with pytest.raises(ConfigError, match=r"batches\.meta") as err:
        Cifar10Folder(cifar[0]).arrays(tmp_path / "cache")
    assert_refused(err, meta)


class _Evil:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (self.command,))


@pytest.mark.parametrize("target", ["data_batch_1", "test_batch", "batches.meta"])
@pytest.mark.parametrize("where", ["top", "inside"])
def test_cifar_malicious_pickle_is_refused_and_never_run(
    cifar: tuple[Path, Any], tmp_path: Path, target: str, where: str
) -> None:
    marker = tmp_path / "pwned"
    evil = _Evil(f"echo pwned > '{marker}'")
    content = evil if where == "top" else batch(np.zeros((2, 3072), np.uint8), [0, evil])
    bad = cifar[0] / target
    dump(content, bad)
    assert b"system" in bad.read_bytes()
    task = Cifar10Folder(cifar[0])
    with pytest.raises(ConfigError, match=r"is refused: it asks for (posix|os|nt)\.system") as err:
        if target == "batches.meta":
            task.class_names  # noqa: B018
        else:
            task.arrays(tmp_path / "cache")
    assert_refused(err, bad)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"cbuiltins\neval\n(S'1+1'\ntR.",
        b"cos\nsystem\n(S'true'\ntR.",
        b"csubprocess\ncall\n(S'true'\ntR.",
        b"cnumpy\nload\n(S'x'\ntR.",
        b"c__builtin__\ngetattr\n(S'x'\nS'y'\ntR.",
    ],
)
def test_unpickler_allows_only_what_cifar_needs(payload: bytes) -> None:
    with pytest.raises(pickle.UnpicklingError, match="refused global"):
        CifarUnpickler(io.BytesIO(payload), encoding="bytes").load()


def test_unpickler_allows_codecs_only_as_latin1_bytes() -> None:
    assert CifarUnpickler(io.BytesIO(pickle.dumps(b"\xff\x00", protocol=2))).load() == b"\xff\x00"
    assert CifarUnpickler(io.BytesIO(pickle.dumps(b"", protocol=2))).load() == b""
    hex_codec = b"c_codecs\nencode\n(X\x02\x00\x00\x0061X\x03\x00\x00\x00hextR."
    with pytest.raises(pickle.UnpicklingError, match="latin1"):
        CifarUnpickler(io.BytesIO(hex_codec)).load()


# -------------------------------------------------------------------------- ImageFolder fixtures

WIDTH, HEIGHT = 6, 5


def save_image(
    path: Path, mode: str, seed: int, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> npt.NDArray[np.uint8]:
    """A random image of ``mode`` saved losslessly; returns its pixels as (C, H, W) uint8."""
    rng = np.random.default_rng(seed)
    channels = 3 if mode == "RGB" else 1
    pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels if channels == 3 else pixels[:, :, 0], mode).save(path)
    return pixels.transpose(2, 0, 1)


def write_tree(
    root: Path, classes: list[str], per_class: int, mode: str = "RGB", seed: int = 0
) -> dict[Path, npt.NDArray[np.uint8]]:
    written: dict[Path, npt.NDArray[np.uint8]] = {}
    for c, name in enumerate(classes):
        for i in range(per_class):
            path = root / name / f"img{i:02d}.png"
            written[path] = save_image(path, mode, seed * 1000 + c * 100 + i)
    return written


def expected(written: dict[Path, npt.NDArray[np.uint8]]) -> tuple[np.ndarray, list[int]]:
    """Pixels in [0, 1] and labels in the order the task reads: sorted classes, sorted files."""
    paths = sorted(written, key=lambda p: (p.parent.name, p.name))
    classes = sorted({p.parent.name for p in paths})
    x = np.stack([written[p] for p in paths]).astype(np.float32) / np.float32(255)
    return x, [classes.index(p.parent.name) for p in paths]


# ---------------------------------------------------------------------------- ImageFolder tests


def test_image_folder_rgb_labels_follow_sorted_class_names(tmp_path: Path) -> None:
    written = write_tree(tmp_path / "imgs", ["cat", "ant", "bee"], per_class=4)
    task = ImageFolder(tmp_path / "imgs")
    assert task.class_names == ["ant", "bee", "cat"]
    assert task.info.name == "image_folder" and task.info.num_classes == 3
    assert task.info.input_shape == (3, HEIGHT, WIDTH)
    arrays = task.arrays(tmp_path / "cache")
    x, y = expected(written)
    assert arrays.x.shape == (12, 3, HEIGHT, WIDTH) and arrays.x.dtype == np.float32
    assert arrays.x.flags.c_contiguous and arrays.y.dtype == np.int64
    np.testing.assert_array_equal(arrays.x, x)  # exact: value / 255
    assert arrays.y.tolist() == y == [0] * 4 + [1] * 4 + [2] * 4
    assert arrays.x_test is None and arrays.y_test is None
    cat = tmp_path / "imgs" / "cat" / "img02.png"
    assert arrays.x[10, 1, 4, 5] == np.float32(written[cat][1, 4, 5]) / np.float32(255)


def test_image_folder_grayscale_is_one_channel(tmp_path: Path) -> None:
    written = write_tree(tmp_path / "gray", ["0", "1"], per_class=3, mode="L")
    task = ImageFolder(tmp_path / "gray")
    assert task.info.input_shape == (1, HEIGHT, WIDTH)
    arrays = task.arrays(tmp_path / "cache")
    np.testing.assert_array_equal(arrays.x, expected(written)[0])


def test_image_folder_mixed_gray_and_colour_loads_as_rgb(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    gray = save_image(root / "a" / "g.png", "L", 1)
    save_image(root / "b" / "c.png", "RGB", 2)
    task = ImageFolder(root)
    assert task.info.input_shape == (3, HEIGHT, WIDTH)
    arrays = task.arrays(tmp_path / "cache")
    for c in range(3):  # the grey image repeated in every channel
        np.testing.assert_array_equal(arrays.x[0, c] * 255, gray[0])


def test_image_folder_other_extensions_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    written = write_tree(root, ["a", "b"], per_class=2)
    upper = root / "b" / "EXTRA.BMP"
    written[upper] = save_image(upper, "RGB", 99)
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "a" / "labels.json").write_text("{}")
    (root / "a" / ".DS_Store").write_bytes(b"\0\1")
    save_image(root / "a" / ".hidden.png", "RGB", 7, size=(9, 9))  # would break the size rule
    save_image(root / ".cache" / "x.png", "RGB", 8)  # a hidden folder is not a class
    (root / "README.md").write_text("a file at the root is not a class")
    save_image(root / "a" / "photo.JPEG", "RGB", 5)  # lossy: checked by count only
    task = ImageFolder(root)
    assert task.class_names == ["a", "b"]
    arrays = task.arrays(tmp_path / "cache")
    assert arrays.y.tolist() == [0, 0, 0, 1, 1, 1]
    x, _ = expected(written)
    np.testing.assert_array_equal(arrays.x[:2], x[:2])  # photo.JPEG sorts last in "a"
    np.testing.assert_array_equal(arrays.x[3:], x[2:])  # EXTRA.BMP sorts first in "b"
    assert arrays.x[3, 0, 0, 0] == np.float32(written[upper][0, 0, 0]) / np.float32(255)


def test_image_folder_train_and_test_folders(tmp_path: Path) -> None:
    train = write_tree(tmp_path / "d" / "train", ["x", "y"], per_class=5, seed=1)
    test = write_tree(tmp_path / "d" / "test", ["x", "y"], per_class=2, seed=2)
    task = ImageFolder(tmp_path / "d")
    assert task.class_names == ["x", "y"] and task.info.input_shape == (3, HEIGHT, WIDTH)
    arrays = task.arrays(tmp_path / "cache")
    np.testing.assert_array_equal(arrays.x, expected(train)[0])
    assert arrays.x_test is not None and arrays.y_test is not None
    np.testing.assert_array_equal(arrays.x_test, expected(test)[0])
    assert arrays.y_test.tolist() == [0, 0, 1, 1]
    for seed in (0, 1):
        np.testing.assert_array_equal(make_splits(arrays, seed).x_test, arrays.x_test)


def test_image_folder_test_classes_must_match(tmp_path: Path) -> None:
    write_tree(tmp_path / "d" / "train", ["x", "y"], per_class=2)
    write_tree(tmp_path / "d" / "test", ["x", "z"], per_class=1)
    with pytest.raises(ConfigError, match="same class folders") as err:
        ImageFolder(tmp_path / "d")
    assert_refused(err, tmp_path / "d" / "test")


def test_image_folder_mismatched_size_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    write_tree(root, ["a", "b"], per_class=3)
    odd = root / "b" / "img01.png"
    save_image(odd, "RGB", 3, size=(7, 5))
    with pytest.raises(ConfigError) as err:
        ImageFolder(root)
    assert_refused(err, odd)
    assert "is 7x5 pixels" in err.value.message and "expected 6x5" in err.value.message
    assert str(root / "a" / "img00.png") in err.value.message  # the size it was compared with


@pytest.mark.parametrize(
    ("make", "expected_text"),
    [
        (lambda r: write_tree(r, ["only"], per_class=3), "has 1 class folder(s) (only)"),
        (lambda r: r.mkdir(), "has 0 class folder(s) (none)"),
        (lambda r: (write_tree(r, ["a"], 2), (r / "b").mkdir()), "'{r}/b' has no images"),
        (
            lambda r: (write_tree(r, ["a"], 2), (r / "b").mkdir(), (r / "b" / "t.txt").touch()),
            "'{r}/b' has no images",
        ),
        (
            lambda r: (write_tree(r, ["a"], 2), write_tree(r / "b", ["deeper"], 1)),
            "'{r}/b' has no images (subfolders are not searched)",
        ),
    ],
)
def test_image_folder_too_few_classes_or_images_are_refused(
    tmp_path: Path, make: Any, expected_text: str
) -> None:
    root = tmp_path / "imgs"
    make(root)
    with pytest.raises(ConfigError) as err:
        ImageFolder(root)
    assert_refused(err, root)
    assert expected_text.format(r=root) in err.value.message
    assert "expected <root>/<class>/<images>" in err.value.message


def test_image_folder_missing_root_or_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as err:
        ImageFolder(tmp_path / "nowhere", field="task.data_dir")
    assert_refused(err, tmp_path / "nowhere", field="task.data_dir")
    a_file = tmp_path / "one.png"
    save_image(a_file, "RGB", 0)
    with pytest.raises(ConfigError, match="is not a folder") as err:
        ImageFolder(a_file)
    assert_refused(err, a_file)


def test_image_folder_unreadable_image_is_refused_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    write_tree(root, ["a", "b"], per_class=2)
    broken = root / "b" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ConfigError, match="not a readable image") as err:
        ImageFolder(root)
    assert_refused(err, broken)


def test_image_folder_sixteen_bit_images_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "imgs"
    write_tree(root, ["a", "b"], per_class=1, mode="L")
    deep = root / "b" / "deep.png"
    Image.fromarray(np.full((HEIGHT, WIDTH), 40000, np.uint16)).save(deep)
    with pytest.raises(ConfigError, match="pixel mode I") as err:
        ImageFolder(root)
    assert_refused(err, deep)


def test_image_folder_gives_seeded_splits_through_load_task(tmp_path: Path) -> None:
    write_tree(tmp_path / "imgs", ["a", "b", "c"], per_class=10)
    data = load_task("image_folder", 0, tmp_path / "cache", data_dir=tmp_path / "imgs")
    assert data.info.input_shape == (3, HEIGHT, WIDTH) and data.info.num_classes == 3
    assert tuple(data.x_train.shape[1:]) == (3, HEIGHT, WIDTH)
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 30


# ------------------------------------------------------------------------------- open_folder_task


def test_open_folder_task_picks_the_reader(cifar: tuple[Path, Any], tmp_path: Path) -> None:
    assert FOLDER_TASKS == ("cifar10", "image_folder")
    assert isinstance(open_folder_task("cifar10", cifar[0]), Cifar10Folder)
    write_tree(tmp_path / "imgs", ["a", "b"], per_class=1)
    task = open_folder_task("image_folder", str(tmp_path / "imgs"), field="x.dir")
    assert isinstance(task, ImageFolder) and task.field == "x.dir"
    with pytest.raises(ConfigError, match="'cifar100' is not a folder task") as err:
        open_folder_task("cifar100", tmp_path)
    assert err.value.field == "task" and "cifar10, image_folder" in err.value.message
    with pytest.raises(ConfigError) as wrong:
        open_folder_task("cifar10", tmp_path / "imgs")  # an image folder is not CIFAR
    assert_refused(wrong, tmp_path / "imgs")
