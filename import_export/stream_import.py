"""Streamed imports: rows go from a format reader into ``import_data`` without a Dataset.

:meth:`Resource.import_from_stream <import_export.resources.Resource.import_from_stream>` is
the entry point.  It opens a reader (:mod:`import_export.formats.streaming`) on the file, wraps
it in a :class:`StreamedDataset` (the headers, and the rows as an iterator read once) and runs
the resource's own ``import_data`` on it.  So the import has ``import_data``'s semantics
exactly: the same transaction around the whole file, hooks in the same order, row numbers,
keyword arguments, errors and rollback.  What differs is only where rows come from and what
is kept of them:

* ``before_import(dataset)`` and ``after_import(dataset, result)`` receive the
  :class:`StreamedDataset`.  Its ``headers`` are the file's and may be changed in
  ``before_import`` (as with a Dataset); its rows can be read only once, by the import:
  iterating it in a hook raises :class:`~import_export.exceptions.StreamingError`.
  ``len(dataset)`` is the number of rows read so far (0 in ``before_import``, all of them in
  ``after_import``).
* The result is a :class:`~import_export.results.BoundedResult`: every total, the first
  errors, the first row results.
* A resource whose loader is a :class:`~import_export.instance_loaders.CachedInstanceLoader`
  gets one that loads the instances of each window of rows (:data:`WINDOW_ROWS`, read
  ahead) instead of the whole file's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from .exceptions import StreamingError
from .formats.streaming.reading import StreamReader, StreamReadError
from .import_plan import DEFAULT_IMPORT_BATCH_SIZE
from .instance_loaders import CachedInstanceLoader
from .results import Result, bounded_result_class
from .streaming import resolve_format

ProgressCallback = Callable[[int], Any]

#: Rows read ahead at a time: the unit of the cached loader's queries and of progress calls.
WINDOW_ROWS = 1000


class StreamedDataset:
    """What ``import_data`` is given instead of a ``tablib.Dataset``: headers and a row iterator.

    It has the part of the Dataset interface the import uses: ``headers`` (a list, or ``None``
    for a file without headers), ``iter()`` and ``len()``.  Rows are read from the reader in
    windows of ``window`` rows; listeners added with :meth:`add_window_listener` see each
    window before its first row is imported (the cached loader uses that), and
    ``progress(rows_read)`` is called after each window and at the end.

    Ragged rows: a row with more or fewer cells than the file's header row is handed on as it
    is when ``pad_short_rows`` is False (the resource asked for ``reject_ragged_rows``, which
    then reports it).  Otherwise it is treated as the classic reading treats it: a short row is
    padded with the format's empty cell; a long one stops the import with
    :class:`StreamReadError` naming the row (tablib refuses such a file with
    ``InvalidDimensions``).
    """

    def __init__(
        self,
        reader: StreamReader,
        *,
        pad_short_rows: bool = True,
        window: int = 1000,
        progress: ProgressCallback | None = None,
    ):
        self.headers = list(reader.headers) if reader.headers else None
        self.rows_read = 0
        self._reader = reader
        self._width = len(self.headers) if self.headers else None
        self._pad_short_rows = pad_short_rows
        self._window = max(1, int(window))
        self._progress = progress
        self._listeners: list[Callable[[list], Any]] = []
        self._started = False

    def add_window_listener(self, listener: Callable[[list], Any]) -> None:
        self._listeners.append(listener)

    def __len__(self) -> int:
        return self.rows_read

    def __bool__(self) -> bool:
        # Unknown until read: never let "if not dataset" skip an import that has rows.
        return True

    def __iter__(self) -> Iterator[Sequence[Any]]:
        if self._started:
            raise StreamingError(
                "The rows of a streamed import are read once, by the import itself; a hook "
                "cannot iterate over them (use the headers, or import_data with a Dataset)."
            )
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[Sequence[Any]]:
        for window in self._windows():
            for listener in self._listeners:
                listener(window)
            yield from window
            if self._progress is not None:
                self._progress(self.rows_read)
        if self._progress is not None and self.rows_read == 0:
            self._progress(0)

    def _windows(self) -> Iterator[list]:
        window: list = []
        size = self._window
        fit = self._fit
        for row in self._reader:
            self.rows_read += 1
            window.append(fit(row))
            if len(window) >= size:
                yield window
                window = []
        if window:
            yield window

    def _fit(self, row: Sequence[Any]) -> Sequence[Any]:
        width = self._width
        if width is None:
            self._width = width = len(row)  # no header: the first row sets the width
        if len(row) == width or not self._pad_short_rows:
            return row
        if len(row) < width:
            return [*row, *([self._reader.empty_cell] * (width - len(row)))]
        raise StreamReadError(
            f"Row {self.rows_read} has {len(row)} cells but the file has {width} columns; "
            "remove the extra cells (or set Meta.reject_ragged_rows to report such rows)."
        )


class _WindowedLoaderMixin:
    """A :class:`CachedInstanceLoader` that caches the instances of one window at a time.

    The classic loader reads the whole dataset in its constructor; a streamed dataset cannot be
    read twice, so this one starts empty and reloads ``all_instances`` with one query (split
    where the database limits parameters) as each window of rows arrives.  Memory follows the
    window, not the file.
    """

    def __init__(self, resource: Any, dataset: Any = None) -> None:
        self._streamed = dataset
        super().__init__(resource, _HeadersOnly(dataset))
        self.dataset = dataset
        if self.id_fields and self._dataset_has_id_columns():
            dataset.add_window_listener(self._load_window)

    def _load_window(self, rows: list) -> None:
        headers = self._streamed.headers or []
        self.dataset = _Window(headers, rows)
        try:
            self.all_instances = self._load_instances(self._keys_in_dataset())
        finally:
            self.dataset = self._streamed


class _HeadersOnly:
    """The headers of a streamed dataset and no rows, for a loader's constructor."""

    def __init__(self, dataset: Any):
        self.headers = dataset.headers

    def __iter__(self):
        return iter(())


class _Window:
    """One window of rows with the dataset's headers, as a loader iterates a dataset."""

    def __init__(self, headers: Sequence, rows: list):
        self.headers = headers
        self._rows = rows

    def __iter__(self):
        return iter(self._rows)


def _window_rows(resource: Any) -> int:
    """:data:`WINDOW_ROWS`, rounded up to whole batches of the import engine when a cached
    loader follows the windows.

    The engine reads a whole batch of rows before importing the first of them, so a window that
    began inside a batch would reload the cached loader under that batch's earlier rows.
    """
    loader_class = resource.get_instance_loader_class()
    if not (isinstance(loader_class, type) and issubclass(loader_class, CachedInstanceLoader)):
        return WINDOW_ROWS
    batch = resource._meta.batch_size or DEFAULT_IMPORT_BATCH_SIZE
    return -(-WINDOW_ROWS // batch) * batch


def _windowed_loader_class(loader_class: type) -> type:
    return type(f"Windowed{loader_class.__name__}", (_WindowedLoaderMixin, loader_class), {})


@contextlib.contextmanager
def _streaming_classes(resource: Any, result_class: type[Result]):
    """Give ``resource``, for one import, the bounded result and a windowed cached loader.

    The import asks the resource for these classes (``get_result_class()``,
    ``get_instance_loader_class()``); shadowing the methods on the instance for the duration of
    the call, and removing the shadows afterwards, changes nothing for other imports.
    """
    loader_class = resource.get_instance_loader_class()
    shadows = {"get_result_class": lambda: result_class}
    if isinstance(loader_class, type) and issubclass(loader_class, CachedInstanceLoader):
        windowed = _windowed_loader_class(loader_class)
        shadows["get_instance_loader_class"] = lambda: windowed
    previous = {name: resource.__dict__[name] for name in shadows if name in resource.__dict__}
    resource.__dict__.update(shadows)
    try:
        yield
    finally:
        for name in shadows:
            resource.__dict__.pop(name, None)
        resource.__dict__.update(previous)


#: Methods that, overridden, may expect a whole ``tablib.Dataset`` (read twice, appended to).
_DATASET_METHODS = ("import_data", "import_data_inner", "before_import", "after_import")


def needs_classic_import(resource_class: type) -> bool:
    """Whether the admin and the ``import`` command must give this resource a whole Dataset.

    Code written for upstream may override ``before_import`` or ``after_import`` (or
    ``import_data``) and read every row of the dataset, or change them.  Such a resource is
    imported the classic way unless its ``Meta.stream_import_hooks`` says that its hooks cope
    with a :class:`StreamedDataset`.  Overrides made by this package itself do not count.
    """
    from .importing import ModelResourceImportMixin, ResourceImportMixin

    if getattr(resource_class._meta, "stream_import_hooks", False):
        return False
    for name in _DATASET_METHODS:
        own = {
            vars(base)[name]
            for base in (ResourceImportMixin, ModelResourceImportMixin)
            if name in vars(base)
        }
        if getattr(resource_class, name, None) not in own:
            return True
    return False


def import_from_stream(
    resource: Any,
    file_format: Any,
    file: IO,
    *,
    progress: ProgressCallback | None = None,
    max_row_results: int | None = None,
    max_errors: int | None = None,
    row_result_callback: Callable[[Any], Any] | None = None,
    **kwargs: Any,
) -> Result:
    """The body of ``Resource.import_from_stream``; see the module docstring.

    ``row_result_callback``, if given, is called with every row result the import records
    (before the bounded result decides whether to keep it).
    """
    file_format = resolve_format(file_format)
    result_class = bounded_result_class(
        resource.get_result_class(),
        max_errors=max_errors,
        max_row_results=max_row_results,
        row_result_callback=row_result_callback,
    )
    reader = file_format.get_stream_reader(file)
    try:
        reader.open()
        dataset = StreamedDataset(
            reader,
            pad_short_rows=not resource._meta.reject_ragged_rows,
            window=_window_rows(resource),
            progress=progress,
        )
        with _streaming_classes(resource, result_class):
            return resource.import_data(dataset, **kwargs)
    finally:
        reader.close()
