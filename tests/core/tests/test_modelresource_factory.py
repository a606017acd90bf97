"""``modelresource_factory``: resource classes built at run time (as the admin does)."""

import warnings

import pytest

from core.models import Author, Book
from import_export import fields, resources
from import_export.resources import modelresource_factory


def test_factory_builds_a_model_resource_for_the_model():
    resource_class = modelresource_factory(Book)

    assert resource_class.__name__ == "BookResource"
    assert issubclass(resource_class, resources.ModelResource)
    assert resource_class._meta.model is Book
    assert list(resource_class.fields)[:3] == ["id", "name", "author"]


def test_meta_options_become_the_meta_class():
    resource_class = modelresource_factory(
        Book, meta_options={"fields": ("id", "name"), "export_order": ("name",), "chunk_size": 5}
    )

    assert list(resource_class.fields) == ["id", "name"]
    assert resource_class().get_export_headers() == ["name", "id"]
    assert resource_class._meta.chunk_size == 5
    assert resource_class.Meta.fields == ("id", "name")


def test_model_argument_wins_over_a_model_in_meta_options():
    resource_class = modelresource_factory(Book, meta_options={"model": Author})
    assert resource_class._meta.model is Book


def test_meta_options_are_not_modified():
    options = {"fields": ("name",)}
    modelresource_factory(Author, meta_options=options)
    assert options == {"fields": ("name",)}


def test_custom_fields_are_declared_after_model_fields():
    shout = fields.Field(attribute="name", column_name="SHOUT")
    resource_class = modelresource_factory(Author, custom_fields={"shout": shout})
    assert list(resource_class.fields) == ["id", "name", "birthday", "shout"]
    assert resource_class.fields["shout"] is shout


def test_custom_field_named_like_a_model_field_replaces_it():
    renamed = fields.Field(attribute="name", column_name="Full name")
    resource_class = modelresource_factory(Author, custom_fields={"name": renamed})
    assert resource_class().get_export_headers() == ["id", "Full name", "birthday"]


def test_custom_field_outside_the_whitelist_is_dropped_with_a_warning():
    with pytest.warns(UserWarning, match="ignoring field 'extra'"):
        resource_class = modelresource_factory(
            Author, meta_options={"fields": ("name",)}, custom_fields={"extra": fields.Field()}
        )
    assert list(resource_class.fields) == ["name"]


@pytest.mark.django_db
def test_dehydrate_methods_compute_exported_values():
    Author.objects.create(name="ann")
    resource_class = modelresource_factory(
        Author,
        meta_options={"fields": ("name", "upper")},
        custom_fields={"upper": fields.Field(column_name="Upper")},
        dehydrate_methods={"upper": lambda author: author.name.upper()},
    )

    dataset = resource_class().export()
    assert dataset.headers == ["name", "Upper"]
    assert [list(row) for row in dataset] == [["ann", "ANN"]]


@pytest.mark.django_db
def test_dehydrate_method_may_override_a_model_field():
    Author.objects.create(name="ann")
    resource_class = modelresource_factory(
        Author,
        meta_options={"fields": ("name",)},
        dehydrate_methods={"name": lambda author: f"<{author.name}>"},
    )
    assert [list(row) for row in resource_class().export()] == [["<ann>"]]


def test_dehydrate_methods_become_methods_of_the_class():
    def describe(author):
        return f"author {author.name}"

    resource_class = modelresource_factory(Author, dehydrate_methods={"summary": describe})
    assert resource_class().dehydrate_summary(Author(name="x")) == "author x"


@pytest.mark.django_db
def test_resource_class_argument_is_the_base():
    class Base(resources.ModelResource):
        extra = fields.Field(column_name="Extra")

        class Meta:
            exclude = ("birthday",)

        def dehydrate_extra(self, author):
            return "from base"

    ann = Author.objects.create(name="ann")
    resource_class = modelresource_factory(Author, resource_class=Base)

    assert issubclass(resource_class, Base)
    assert list(resource_class.fields) == ["id", "name", "extra"]
    assert resource_class().export().dict[0] == {
        "id": str(ann.pk),
        "name": "ann",
        "Extra": "from base",
    }


def test_each_call_builds_a_new_class():
    first = modelresource_factory(Author)
    second = modelresource_factory(Author, meta_options={"fields": ("name",)})
    assert first is not second
    assert list(first.fields) == ["id", "name", "birthday"]
    assert list(second.fields) == ["name"]


@pytest.mark.parametrize("not_a_field", ["name", None, fields.Field, 3])
def test_custom_field_that_is_not_a_field_instance_is_rejected(not_a_field):
    with pytest.raises(ValueError) as error:
        modelresource_factory(Author, custom_fields={"bad": not_a_field})
    expected = f"custom_fields['bad'] must be a Field instance, got {type(not_a_field).__name__}"
    assert str(error.value) == expected


@pytest.mark.parametrize("not_callable", ["dehydrate_x", 3, None])
def test_dehydrate_method_that_is_not_callable_is_rejected(not_callable):
    with pytest.raises(ValueError) as error:
        modelresource_factory(Author, dehydrate_methods={"bad": not_callable})
    expected = f"dehydrate_methods['bad'] must be callable, got {type(not_callable).__name__}"
    assert str(error.value) == expected


def test_factory_without_options_warns_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        modelresource_factory(Book)
