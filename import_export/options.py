"""Every ``Meta`` option a resource understands, with its default.

A resource's ``Meta`` class is read into one :class:`ResourceOptions` by the metaclass, so the rest
of the code reads ``resource._meta.<option>`` and never has to ask whether an option was given.
"""


class ResourceOptions:
    """The options of a resource, read from its ``Meta`` class (and those of its bases)."""

    #: The Django model the resource maps (a class, or an ``"app_label.ModelName"`` string).
    model = None
    #: Whitelist of field names to use; ``None`` means all model fields.
    fields = None
    #: Field names to leave out.
    exclude = None
    #: Class used to find existing instances during import (``None``: ModelInstanceLoader).
    instance_loader_class = None
    #: Fields whose values identify an existing instance during import.
    import_id_fields = ["id"]
    #: Field names in the order an import should process them.
    import_order = None
    #: Field names in the order an export should write them.
    export_order = None
    #: ``{field_name: {widget kwarg: value}}`` passed to generated fields' widgets.
    widgets = None
    #: Whether an import runs in a transaction (``None``: ``IMPORT_EXPORT_USE_TRANSACTIONS``).
    use_transactions = None
    #: Whether rows that would not change an instance are skipped on import.
    skip_unchanged = False
    #: Whether skipped rows appear in the import result.
    report_skipped = True
    #: Whether ``full_clean()`` runs on each imported instance.
    clean_model_instances = False
    #: Rows fetched from the database at a time on export (``None``: ``IMPORT_EXPORT_CHUNK_SIZE``).
    chunk_size = None
    #: Whether import results leave out diffs (faster imports of large files).
    skip_diff = False
    #: Whether import results leave out the HTML rendering of diffs.
    skip_html_diff = False
    #: Whether an import creates, updates and deletes in bulk.
    use_bulk = False
    #: How many instances a bulk operation writes at a time.
    batch_size = 1000
    #: Whether an import looks up existing instances and related objects once per batch of
    #: ``batch_size`` rows instead of once per row (this fork's addition; ``False`` runs the
    #: per-row engine, lookup by lookup as upstream; see docs/import_engine.rst).
    batch_import_lookups = True
    #: Whether an import always creates new instances without looking for existing ones.
    force_init_instance = False
    #: Database alias used by imports (``None``: the router's choice for writes).
    using_db = None
    #: Whether each row result keeps the raw row values.
    store_row_values = False
    #: Whether each row result keeps the imported instance.
    store_instance = False
    #: Whether foreign keys are rendered and read through natural keys.
    use_natural_foreign_keys = False
    #: Whether exports add ``select_related``/``prefetch_related`` for the relations the exported
    #: fields follow (this fork's addition; set ``False`` to keep the queryset exactly as given).
    optimize_export_queries = True
    #: Whether ``after_export`` copes with ``dataset=None`` (this fork's addition).  The admin
    #: and the ``export`` command stream a resource's export unless it overrides ``export()`` or
    #: ``after_export()``, which code written for upstream expects to see a Dataset; set this to
    #: ``True`` on a resource whose ``after_export`` does not need the Dataset, so it streams too.
    stream_after_export = False
    #: Whether a row repeating an earlier row's ``import_id_fields`` values is an error
    #: (``DuplicateKeyError``, naming both rows) rather than a second update of the same record
    #: (this fork's addition; off because upstream allows it and files rely on it, for example
    #: one row per many-to-many value added with ``m2m_add``).
    reject_duplicate_import_ids = False
    #: Whether a row with more or fewer cells than the file has headers is an error
    #: (``RowLengthError``) rather than paired with the headers as far as both go (this fork's
    #: addition; off because ``before_import`` overrides may add headers they fill themselves).
    reject_ragged_rows = False
    #: Whether ``before_import``/``after_import`` overrides cope with a streamed dataset
    #: (headers, rows read once by the import); the admin and the ``import`` command stream
    #: such a resource's imports only then (this fork's addition).
    stream_import_hooks = False
