"""Resources of the test project shared by the tests, the benchmarks and ``make demo``."""

from import_export import fields, resources, widgets

from .models import Package, Repository


class PackageResource(resources.ModelResource):
    """A pulpcore-shaped export: a dozen columns and the repository rendered by its name."""

    repository = fields.Field(
        attribute="repository",
        column_name="repository",
        widget=widgets.ForeignKeyWidget(Repository, "name"),
    )

    class Meta:
        model = Package
        fields = (
            "id",
            "repository",
            "name",
            "epoch",
            "version",
            "release",
            "arch",
            "pkg_id",
            "checksum_type",
            "summary",
            "description",
            "url",
            "size_package",
            "time_build",
        )
