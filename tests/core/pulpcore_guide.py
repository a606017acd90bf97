"""The code of the pulpcore migration guide (docs/pulpcore_migration.rst), run by its test.

The guide includes this file with ``literalinclude``, so what the guide shows is exactly what
``tests/core/tests/test_pulpcore_guide.py`` runs: a pulpcore-style exporter writing each
resource into a tar file with ``export_to_stream`` and an importer reading them back with
``import_from_stream``.
"""

import os
import tarfile
import tempfile

from import_export import fields, resources, widgets

from .models import PulpDomain, PulpPackage


# -- resources ------------------------------------------------------------------------------
class QueryModelResource(resources.ModelResource):
    """pulpcore's base resource: the rows to export come from ``set_up_queryset()``."""

    def __init__(self, domain=None):
        super().__init__()
        self.domain = domain
        self.queryset = self.set_up_queryset()

    def set_up_queryset(self):
        return self._meta.model.objects.none()


class DomainResource(QueryModelResource):
    def set_up_queryset(self):
        return PulpDomain.objects.all()

    class Meta:
        model = PulpDomain
        import_id_fields = ("pulp_id",)


class PackageResource(QueryModelResource):
    # The domain travels by its natural key (its name), as pulpcore exports relations.
    domain = fields.Field(
        attribute="domain",
        column_name="domain",
        widget=widgets.ForeignKeyWidget(PulpDomain, "name"),
    )

    def set_up_queryset(self):
        packages = PulpPackage.objects.select_related("domain")
        if self.domain is not None:
            packages = packages.filter(domain=self.domain)
        return packages

    class Meta:
        model = PulpPackage
        import_id_fields = ("pulp_id",)
        fields = (
            "pulp_id",
            "pulp_type",
            "upstream_id",
            "pulp_labels",
            "timestamp_of_interest",
            "domain",
            "name",
            "version",
            "release",
            "arch",
            "checksum",
            "size",
            "files",
            "location",
            "server",
        )


# -- exporter -------------------------------------------------------------------------------
def write_export(the_tarfile, resource, dest_dir=""):
    """Write ``resource``'s rows as one JSON member of ``the_tarfile``, in bounded memory.

    The JSON goes to an anonymous temporary file first because a tar member's header needs its
    size; ``export_to_stream`` writes it row by row, so memory does not grow with the rows.
    """
    with tempfile.TemporaryFile() as temp_file:
        resource.export_to_stream("json", temp_file, resource.queryset)
        info = tarfile.TarInfo(name=os.path.join(dest_dir, f"{type(resource).__name__}.json"))
        info.size = temp_file.tell()
        temp_file.seek(0)
        the_tarfile.addfile(info, temp_file)


def export_domain(tar_path, domain=None):
    """Everything the importer needs, in dependency order: domains, then packages."""
    with tarfile.open(tar_path, "w") as the_tarfile:
        for resource_class in (DomainResource, PackageResource):
            write_export(the_tarfile, resource_class(domain))


# -- importer -------------------------------------------------------------------------------
def import_file(the_tarfile, member_name, resource_class, retry=False):
    """Import one member of the tar as it is read from the archive.

    With ``retry``, a first pass records errors instead of raising (another import may be
    writing the same rows at the same time); only if it had errors is the file imported once
    more, raising the first error.  Each pass is one transaction for the whole file.
    """
    resource = resource_class()
    if not retry:
        return resource.import_from_stream(
            "json", the_tarfile.extractfile(member_name), raise_errors=True
        )
    result = resource.import_from_stream(
        "json", the_tarfile.extractfile(member_name), raise_errors=False
    )
    if result.has_errors():
        result = resource_class().import_from_stream(
            "json", the_tarfile.extractfile(member_name), raise_errors=True
        )
    return result


def import_domain(tar_path, retry=False):
    with tarfile.open(tar_path, "r") as the_tarfile:
        for resource_class in (DomainResource, PackageResource):
            import_file(the_tarfile, f"{resource_class.__name__}.json", resource_class, retry)
