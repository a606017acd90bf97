"""How a resource class body (its ``Meta`` and declared fields) becomes an ordered set of fields.

These rules decide the columns of every export, so each one is pinned here: model fields in model
order, declared fields after them (or in place of a model field of the same name), whitelists and
exclusions, ``a__b`` relation paths, Meta inheritance and the widget chosen for each model field.
"""

import warnings

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db.models.fields import NOT_PROVIDED

from core.models import AllTypes, Author, Book, Magazine, Place, Profile, Restaurant, UUIDBook
from import_export import fields, resources, widgets

BOOK_MODEL_FIELDS = [
    "id",
    "name",
    "author",
    "author_email",
    "imported",
    "published",
    "published_time",
    "price",
    "added",
    "categories",
]


def model_resource(model, body=None, **meta_options):
    """A ModelResource subclass built at run time, so each test states only what it varies."""
    attrs = dict(body or {})
    attrs["Meta"] = type("Meta", (), {"model": model, **meta_options})
    model_name = model.rsplit(".", 1)[-1] if isinstance(model, str) else model.__name__
    return type(f"{model_name}TestResource", (resources.ModelResource,), attrs)


# -- ordering -----------------------------------------------------------------------------------


def test_model_fields_come_in_model_order():
    resource_class = model_resource(Book)
    assert list(resource_class.fields) == BOOK_MODEL_FIELDS


def test_declared_fields_follow_the_model_fields():
    resource_class = model_resource(Book, {"zeta": fields.Field(), "alpha": fields.Field()})
    assert list(resource_class.fields) == [*BOOK_MODEL_FIELDS, "zeta", "alpha"]


def test_declared_field_named_like_a_model_field_takes_its_place():
    title = fields.Field(attribute="name", column_name="Title")
    resource_class = model_resource(Book, {"name": title})

    assert list(resource_class.fields) == BOOK_MODEL_FIELDS
    assert resource_class.fields["name"] is title
    assert resource_class().get_export_headers()[1] == "Title"


def test_declared_field_without_column_name_is_named_after_its_attribute_name():
    resource_class = model_resource(Book, {"shouting": fields.Field(attribute="name")})
    assert resource_class.fields["shouting"].column_name == "shouting"


def test_plain_resource_inherits_declared_fields_and_lets_subclass_redeclare():
    class Parent(resources.Resource):
        first = fields.Field()
        second = fields.Field(column_name="Second")

    class Child(Parent):
        third = fields.Field()
        first = fields.Field(column_name="First again")

    assert [(name, f.column_name) for name, f in Child.fields.items()] == [
        ("first", "First again"),
        ("second", "Second"),
        ("third", "third"),
    ]
    # The parent keeps its own declaration.
    assert Parent.fields["first"].column_name == "first"


def test_each_resource_instance_gets_its_own_copy_of_the_fields():
    resource_class = model_resource(Book)
    one, two = resource_class(), resource_class()
    one.fields["name"].column_name = "changed"
    assert two.fields["name"].column_name == "name"
    assert resource_class.fields["name"].column_name == "name"


# -- fields / exclude ---------------------------------------------------------------------------


def test_fields_whitelist_keeps_model_order_not_whitelist_order():
    resource_class = model_resource(Book, fields=("price", "name", "id"))
    assert list(resource_class.fields) == ["id", "name", "price"]


def test_fields_whitelist_sets_export_order():
    resource_class = model_resource(Book, fields=("price", "name", "id"))
    assert resource_class().get_export_headers() == ["price", "name", "id"]


def test_whitelist_accepts_declared_field_by_column_name():
    full = fields.Field(attribute="name", column_name="Full title")
    resource_class = model_resource(Book, {"full": full}, fields=("id", "Full title"))

    assert list(resource_class.fields) == ["id", "full"]
    assert resource_class().get_export_order() == ("id", "Full title")
    # Upstream quirk kept for compatibility: the default export matches ``fields`` entries
    # against declared names only, so the column appears only when selected by column name.
    assert resource_class().get_export_headers() == ["id"]
    assert resource_class().get_export_headers(selected_fields=["id", "Full title"]) == [
        "id",
        "Full title",
    ]


def test_whitelist_accepts_declared_field_replacing_model_field_by_column_name():
    renamed = fields.Field(attribute="name", column_name="n")
    resource_class = model_resource(Book, {"name": renamed}, fields=("n", "id"))
    # Found through its column name, the declared field stays under its declared name.
    assert list(resource_class.fields) == ["id", "name"]
    assert resource_class.fields["name"] is renamed


def test_declared_field_missing_from_whitelist_is_dropped_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resource_class = model_resource(Book, {"other": fields.Field()}, fields=("name",))

    assert list(resource_class.fields) == ["name"]
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert messages == [
        "BookTestResource: ignoring field 'other' because not declared in 'fields' whitelist"
    ]


def test_whitelisted_declared_field_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resource_class = model_resource(Book, {"other": fields.Field()}, fields=("other",))
    assert list(resource_class.fields) == ["other"]


def test_exclude_removes_model_fields():
    resource_class = model_resource(Book, exclude=("price", "categories"))
    expected = [name for name in BOOK_MODEL_FIELDS if name not in ("price", "categories")]
    assert list(resource_class.fields) == expected


def test_exclude_does_not_remove_declared_fields():
    # Upstream behaviour: ``exclude`` filters generated model fields only.
    resource_class = model_resource(Book, {"extra": fields.Field()}, exclude=("extra", "price"))
    assert "extra" in resource_class.fields
    assert "price" not in resource_class.fields


def test_empty_whitelist_gives_no_model_fields():
    resource_class = model_resource(Book, fields=())
    assert resource_class.fields == {}


# -- relation paths -----------------------------------------------------------------------------


def test_relation_paths_in_whitelist_become_read_only_fields_after_model_fields():
    resource_class = model_resource(
        Book, fields=("author__birthday", "author__name", "id", "categories__name")
    )
    assert list(resource_class.fields) == [
        "id",
        "author__birthday",
        "author__name",
        "categories__name",
    ]
    for name in ("author__name", "author__birthday", "categories__name"):
        field = resource_class.fields[name]
        assert field.readonly is True
        assert field.attribute == name
        assert field.column_name == name
    assert resource_class.fields["id"].readonly is False


def test_relation_path_field_gets_the_widget_of_the_field_it_ends_at():
    resource_class = model_resource(Book, fields=("author__name", "author__birthday"))
    assert type(resource_class.fields["author__name"].widget) is widgets.CharWidget
    assert type(resource_class.fields["author__birthday"].widget) is widgets.DateTimeWidget


def test_relation_path_may_follow_reverse_one_to_one():
    resource_class = model_resource(Place, fields=("id", "restaurant__rating"))
    assert type(resource_class.fields["restaurant__rating"].widget) is widgets.IntegerWidget


def test_relation_path_ending_at_foreign_key_keeps_the_object_path():
    # "__" in the name: the field reads the related object, not a raw ``_id`` column.
    resource_class = model_resource(Profile, fields=("user__id",))
    assert resource_class.fields["user__id"].attribute == "user__id"


def test_unknown_field_inside_a_relation_path_names_the_path():
    with pytest.raises(FieldDoesNotExist) as error:
        model_resource(Book, fields=("author__nope",))
    assert str(error.value) == "Book.author.nope: Author has no field named 'nope'"


def test_unknown_first_step_of_a_relation_path_names_the_model():
    with pytest.raises(FieldDoesNotExist) as error:
        model_resource(Book, fields=("nope__name",))
    assert str(error.value) == "Book.nope: Book has no field named 'nope'"


def test_relation_path_through_a_non_relation_is_a_key_error():
    with pytest.raises(KeyError) as error:
        model_resource(Book, fields=("name__length",))
    assert error.value.args[0] == "Book.name is not a relation"


def test_declared_field_named_like_a_path_is_not_resolved():
    custom = fields.Field(attribute="name", column_name="x")
    resource_class = model_resource(Book, {"nope__thing": custom}, fields=("nope__thing",))
    assert resource_class.fields == {"nope__thing": custom}


# -- Meta.model ---------------------------------------------------------------------------------


def test_model_may_be_given_as_app_label_dot_model_string():
    resource_class = model_resource("core.Book")
    assert resource_class._meta.model is Book
    assert list(resource_class.fields) == BOOK_MODEL_FIELDS


def test_unknown_model_string_fails_at_class_creation():
    with pytest.raises(LookupError):
        model_resource("core.NoSuchModel")


def test_model_resource_without_model_has_only_declared_fields():
    class Loose(resources.ModelResource):
        value = fields.Field()

    assert list(Loose.fields) == ["value"]
    assert Loose._meta.model is None


# -- Meta inheritance ---------------------------------------------------------------------------


class BookBase(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price", "author")
        export_order = ("name",)


class NoPriceMixin:
    class Meta:
        exclude = ("price",)


def test_meta_is_inherited_from_base_resource():
    class Child(BookBase):
        pass

    assert Child._meta.model is Book
    assert Child._meta.fields == ("id", "name", "price", "author")
    assert list(Child.fields) == ["id", "name", "author", "price"]
    assert Child().get_export_headers() == ["name", "id", "price", "author"]


def test_child_meta_overrides_only_the_options_it_sets():
    class Child(BookBase):
        class Meta:
            import_order = ("author",)
            chunk_size = 7

    assert Child._meta.import_order == ("author",)
    assert Child._meta.chunk_size == 7
    assert Child._meta.export_order == ("name",)
    assert Child._meta.model is Book
    # The base is unaffected.
    assert BookBase._meta.import_order is None
    assert BookBase._meta.chunk_size is None


def test_meta_of_a_plain_mixin_applies_when_the_resource_has_no_meta():
    class Base(resources.ModelResource):
        class Meta:
            model = Book

    class Child(NoPriceMixin, Base):
        pass

    assert Child._meta.exclude == ("price",)
    assert Child._meta.model is Book
    # As upstream: the exclusion drops the generated field, but the copy inherited from the
    # base (which had it) comes back after the model fields.
    assert list(Child.fields)[-1] == "price"


def test_model_may_come_from_a_mixin_meta():
    class AuthorMeta:
        class Meta:
            model = Author

    class Child(AuthorMeta, resources.ModelResource):
        pass

    assert Child._meta.model is Author
    assert list(Child.fields) == ["id", "name", "birthday"]


def test_options_of_a_base_resource_without_model_apply_to_the_subclass():
    class NoBirthdays(resources.ModelResource):
        class Meta:
            exclude = ("birthday",)

    class Child(NoBirthdays):
        class Meta:
            model = Author

    assert list(Child.fields) == ["id", "name"]
    assert NoBirthdays.fields == {}


def test_grandchild_inherits_options_of_all_ancestors():
    class Child(BookBase):
        class Meta:
            use_natural_foreign_keys = True

    class GrandChild(Child):
        class Meta:
            chunk_size = 3

    assert GrandChild._meta.use_natural_foreign_keys is True
    assert GrandChild._meta.chunk_size == 3
    assert GrandChild._meta.fields == ("id", "name", "price", "author")


def test_declared_fields_of_a_base_model_resource_are_inherited():
    class Base(resources.ModelResource):
        shout = fields.Field(attribute="name", column_name="SHOUT")

        class Meta:
            model = Author

    class Child(Base):
        pass

    assert list(Child.fields) == ["id", "name", "birthday", "shout"]
    assert Child.fields["shout"].column_name == "SHOUT"


def test_defaults_of_options_not_set():
    opts = model_resource(Book)._meta
    assert opts.fields is None
    assert opts.exclude is None
    assert opts.import_id_fields == ["id"]
    assert opts.chunk_size is None
    assert opts.use_natural_foreign_keys is False
    assert opts.optimize_export_queries is True


# -- export_order / import_order ----------------------------------------------------------------


def test_export_order_puts_listed_fields_first_and_the_rest_in_field_order():
    resource_class = model_resource(Author, export_order=("name",))
    assert resource_class().get_export_order() == ("name", "id", "birthday")
    assert resource_class().get_export_headers() == ["name", "id", "birthday"]


def test_export_order_may_name_a_declared_field():
    resource_class = model_resource(
        Author, {"extra": fields.Field(column_name="Extra")}, export_order=("extra", "id")
    )
    assert resource_class().get_export_headers() == ["Extra", "id", "name", "birthday"]


def test_export_order_then_whitelist_order():
    resource_class = model_resource(Book, fields=("price", "name", "id"), export_order=("id",))
    assert resource_class().get_export_order() == ("id", "price", "name")


def test_import_order_puts_listed_fields_first_for_import():
    resource_class = model_resource(Author, import_order=("birthday",))
    assert resource_class().get_import_order() == ("birthday", "id", "name")


def test_import_order_does_not_change_export_order():
    resource_class = model_resource(Author, import_order=("birthday",))
    assert resource_class().get_export_headers() == ["id", "name", "birthday"]


def test_export_order_name_unknown_to_the_resource_warns_and_is_skipped():
    resource_class = model_resource(Author, export_order=("missing", "name"))
    with pytest.warns(UserWarning, match="cannot identify field for export with name 'missing'"):
        headers = resource_class().get_export_headers(selected_fields=["missing", "name"])
    assert headers == ["name"]


# -- widgets ------------------------------------------------------------------------------------


def test_meta_widgets_passes_keyword_arguments_to_the_generated_widget():
    resource_class = model_resource(Book, widgets={"published": {"format": "%d.%m.%Y"}})
    assert resource_class.fields["published"].widget.formats == ("%d.%m.%Y",)


def test_meta_widgets_on_a_foreign_key_reads_the_object_not_the_id():
    resource_class = model_resource(Book, widgets={"author": {"field": "name"}})
    field = resource_class.fields["author"]
    assert field.attribute == "author"
    assert field.widget.field == "name"
    assert field.widget.key_is_id is False


def test_plain_foreign_key_reads_the_raw_id_column():
    field = model_resource(Book).fields["author"]
    assert field.attribute == "author_id"
    assert field.column_name == "author"
    assert isinstance(field.widget, widgets.ForeignKeyWidget)
    assert field.widget.model is Author
    assert field.widget.key_is_id is True


def test_one_to_one_field_reads_the_raw_id_column():
    field = model_resource(Profile).fields["user"]
    assert field.attribute == "user_id"
    assert field.widget.key_is_id is True


def test_model_field_default_becomes_the_field_default():
    resource_class = model_resource(Book)
    assert resource_class.fields["imported"].default is False
    assert resource_class.fields["name"].default is NOT_PROVIDED


# -- natural keys -------------------------------------------------------------------------------


def test_natural_foreign_keys_for_a_model_that_has_one():
    field = model_resource(Magazine, use_natural_foreign_keys=True).fields["publisher"]
    assert field.attribute == "publisher"
    assert field.widget.use_natural_foreign_keys is True
    assert field.widget.key_is_id is False


def test_natural_foreign_keys_ignored_for_a_model_without_one():
    # Author has no natural_key(): the widget renders pks, but still from the object.
    field = model_resource(Book, use_natural_foreign_keys=True).fields["author"]
    assert field.attribute == "author"
    assert field.widget.use_natural_foreign_keys is False
    assert field.widget.key_is_id is False


# -- multi-table inheritance and UUID keys ------------------------------------------------------


def test_multi_table_child_lists_parent_link_then_parent_then_own_fields():
    resource_class = model_resource(Restaurant)
    assert list(resource_class.fields) == [
        "place_ptr",
        "id",
        "name",
        "address",
        "serves_pizza",
        "rating",
    ]
    parent_link = resource_class.fields["place_ptr"]
    assert parent_link.attribute == "place_ptr_id"
    assert parent_link.widget.model is Place


def test_uuid_primary_key_uses_the_base_widget():
    resource_class = model_resource(UUIDBook)
    assert list(resource_class.fields) == ["id", "name", "author", "categories"]
    assert type(resource_class.fields["id"].widget) is widgets.Widget
    assert type(resource_class.fields["categories"].widget) is widgets.ManyToManyWidget


# -- widget per field type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field_name, widget_class",
    [
        ("id", widgets.IntegerWidget),
        ("char", widgets.CharWidget),
        ("text", widgets.Widget),
        ("small_int", widgets.IntegerWidget),
        ("integer", widgets.IntegerWidget),
        ("big_int", widgets.IntegerWidget),
        ("positive_int", widgets.IntegerWidget),
        ("decimal", widgets.DecimalWidget),
        ("floating", widgets.FloatWidget),
        ("boolean", widgets.BooleanWidget),
        ("nullable_boolean", widgets.BooleanWidget),
        ("date", widgets.DateWidget),
        ("datetime", widgets.DateTimeWidget),
        ("time", widgets.TimeWidget),
        ("duration", widgets.DurationWidget),
        ("json", widgets.JSONWidget),
        ("email", widgets.CharWidget),
        ("slug", widgets.CharWidget),
        ("url", widgets.CharWidget),
    ],
)
def test_widget_for_each_model_field_type(field_name, widget_class):
    widget = model_resource(AllTypes).fields[field_name].widget
    assert type(widget) is widget_class


def test_blank_char_fields_get_blank_friendly_widgets():
    resource_class = model_resource(AllTypes)
    for name in ("char", "email", "slug", "url"):
        widget = resource_class.fields[name].widget
        assert widget.allow_blank is True
        assert widget.coerce_to_string is True


def test_widget_lookup_falls_back_to_the_field_class_hierarchy():
    from django.db import models

    class LoudCharField(models.CharField):
        def get_internal_type(self):
            return "LoudCharField"

    widget = resources.ModelResource.widget_from_django_field(LoudCharField(max_length=3))
    assert widget is widgets.CharWidget


def test_unknown_field_type_gets_the_default_widget():
    from django.db import models

    assert resources.ModelResource.widget_from_django_field(models.BinaryField()) is widgets.Widget


def test_widgets_map_of_a_subclass_is_used():
    class TextAsChar(resources.ModelResource):
        WIDGETS_MAP = {**resources.ModelResource.WIDGETS_MAP, "TextField": widgets.CharWidget}

        class Meta:
            model = AllTypes

    assert type(TextAsChar.fields["text"].widget) is widgets.CharWidget


def test_default_resource_field_class_of_a_subclass_is_used():
    class MyField(fields.Field):
        pass

    class Custom(resources.ModelResource):
        DEFAULT_RESOURCE_FIELD = MyField

        class Meta:
            model = Author

    assert all(type(field) is MyField for field in Custom.fields.values())
