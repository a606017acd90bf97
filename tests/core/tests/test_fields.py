"""Field: reading a value from an object, cleaning an imported cell, saving it, exporting it."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db.models.fields import NOT_PROVIDED

from core.models import Author, Book, Category, Magazine, Place, Publisher, Restaurant
from import_export import widgets
from import_export.exceptions import FieldError
from import_export.fields import Field

# -- get_value ----------------------------------------------------------------------------------


def test_get_value_reads_an_attribute():
    assert Field(attribute="name").get_value(SimpleNamespace(name="Ada")) == "Ada"


def test_get_value_without_attribute_is_none():
    assert Field(column_name="x").get_value(SimpleNamespace(x=1)) is None


def test_get_value_of_a_missing_attribute_is_none():
    assert Field(attribute="nope").get_value(SimpleNamespace(name="Ada")) is None


def test_get_value_follows_double_underscore_paths():
    obj = SimpleNamespace(author=SimpleNamespace(address=SimpleNamespace(city="Lyon")))
    assert Field(attribute="author__address__city").get_value(obj) == "Lyon"


def test_get_value_stops_at_none_in_the_middle_of_a_path():
    obj = SimpleNamespace(author=None)
    assert Field(attribute="author__name__upper").get_value(obj) is None


def test_get_value_reads_dict_keys_along_the_path():
    row = {"book": {"author": {"name": "Ada"}}}
    assert Field(attribute="book__author__name").get_value(row) == "Ada"


def test_get_value_of_a_missing_dict_key_is_none():
    assert Field(attribute="book__isbn").get_value({"book": {"name": "x"}}) is None


def test_get_value_mixes_objects_and_dicts():
    obj = SimpleNamespace(meta={"tags": SimpleNamespace(first="a")})
    assert Field(attribute="meta__tags__first").get_value(obj) == "a"


def test_get_value_calls_a_callable_at_the_end_of_the_path():
    calls = []

    def compute():
        calls.append(1)
        return "computed"

    assert Field(attribute="compute").get_value(SimpleNamespace(compute=compute)) == "computed"
    assert calls == [1]


def test_get_value_calls_a_model_method():
    book = Book(name="dune")
    book.shout = lambda: book.name.upper()
    assert Field(attribute="shout").get_value(book) == "DUNE"


def test_get_value_calls_a_model_method_at_the_end_of_a_path():
    magazine = Magazine(title="m", publisher=Publisher(name="Pub"))
    assert Field(attribute="publisher__natural_key").get_value(magazine) == ("Pub",)


@pytest.mark.django_db
def test_get_value_returns_related_managers_uncalled():
    author = Author.objects.create(name="Ada")
    book = Book.objects.create(name="B", author=author)
    book.categories.add(Category.objects.create(name="c"))

    categories = Field(attribute="categories").get_value(book)
    books = Field(attribute="book_set").get_value(author)

    assert [c.name for c in categories.all()] == ["c"]
    assert [b.name for b in books.all()] == ["B"]


@pytest.mark.django_db
def test_get_value_follows_a_foreign_key():
    book = Book.objects.create(name="B", author=Author.objects.create(name="Ada"))
    assert Field(attribute="author__name").get_value(book) == "Ada"


@pytest.mark.django_db
def test_get_value_of_a_missing_reverse_one_to_one_is_none():
    place = Place.objects.create(name="park")
    assert Field(attribute="restaurant").get_value(place) is None
    assert Field(attribute="restaurant__rating").get_value(place) is None


@pytest.mark.django_db
def test_get_value_of_a_present_reverse_one_to_one():
    restaurant = Restaurant.objects.create(name="pizzeria", rating=4)
    place = Place.objects.get(pk=restaurant.pk)
    assert Field(attribute="restaurant__rating").get_value(place) == 4


def test_get_value_of_many_to_many_on_an_unsaved_object_is_none():
    # The related manager raises ValueError before the object has a primary key.
    assert Field(attribute="categories").get_value(Book(name="unsaved")) is None


def test_get_value_follows_a_changed_attribute():
    field = Field(attribute="a")
    obj = SimpleNamespace(a=1, b=SimpleNamespace(c=2))
    assert field.get_value(obj) == 1
    field.attribute = "b__c"
    assert field.get_value(obj) == 2


# -- clean --------------------------------------------------------------------------------------


def test_clean_reads_the_column_through_the_widget():
    field = Field(column_name="Count", widget=widgets.IntegerWidget())
    assert field.clean({"Count": "12"}) == 12


def test_clean_of_a_missing_column_names_the_column_and_the_available_ones():
    with pytest.raises(KeyError) as error:
        Field(column_name="price").clean({"name": "x", "Price ": "1"})
    assert error.value.args[0] == (
        "Column 'price' not found in dataset. Available columns are: ['name', 'Price ']"
    )


@pytest.mark.parametrize("empty", ["", None])
def test_clean_returns_the_default_for_empty_cells(empty):
    assert Field(column_name="a", default="fallback").clean({"a": empty}) == "fallback"


def test_clean_calls_a_callable_default_each_time():
    counter = iter(range(10))
    field = Field(column_name="a", default=lambda: next(counter))
    assert [field.clean({"a": ""}), field.clean({"a": ""})] == [0, 1]


def test_clean_applies_the_default_after_the_widget():
    field = Field(column_name="a", default=7, widget=widgets.IntegerWidget())
    assert field.clean({"a": ""}) == 7
    assert field.clean({"a": "0"}) == 0


def test_clean_without_default_keeps_empty_value():
    assert Field(column_name="a").default is NOT_PROVIDED
    assert Field(column_name="a").clean({"a": ""}) == ""


def test_clean_passes_the_row_to_the_widget():
    seen = {}

    class RecordingWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            seen["row"] = row
            seen["kwargs"] = kwargs
            return value

    row = {"a": "1", "b": "2"}
    Field(column_name="a", widget=RecordingWidget()).clean(row, extra=True)
    assert seen == {"row": row, "kwargs": {"extra": True}}


# -- save ---------------------------------------------------------------------------------------


def test_save_sets_the_cleaned_value():
    book = Book(name="old")
    Field(attribute="name", column_name="n").save(book, {"n": "new"})
    assert book.name == "new"


def test_save_converts_through_the_widget():
    book = Book(name="x")
    Field(attribute="published", column_name="d", widget=widgets.DateWidget()).save(
        book, {"d": "2024-02-29"}
    )
    assert book.published == date(2024, 2, 29)


def test_read_only_field_is_not_saved():
    book = Book(name="old")
    Field(attribute="name", column_name="n", readonly=True).save(book, {"n": "new"})
    assert book.name == "old"


def test_read_only_field_does_not_even_need_its_column():
    book = Book(name="old")
    Field(attribute="name", column_name="n", readonly=True).save(book, {})
    assert book.name == "old"


def test_saves_null_values_false_keeps_the_current_value():
    book = Book(name="x", price=Decimal("3.50"))
    field = Field(
        attribute="price", column_name="p", widget=widgets.DecimalWidget(), saves_null_values=False
    )
    field.save(book, {"p": ""})
    assert book.price == Decimal("3.50")
    field.save(book, {"p": "4.25"})
    assert book.price == Decimal("4.25")


def test_saves_null_values_true_overwrites_with_none():
    book = Book(name="x", price=Decimal("3.50"))
    Field(attribute="price", column_name="p", widget=widgets.DecimalWidget()).save(book, {"p": ""})
    assert book.price is None


def test_save_through_a_path_sets_the_attribute_on_the_related_object():
    author = Author(name="old")
    book = Book(name="b", author=author)
    Field(attribute="author__name", column_name="a").save(book, {"a": "new"})
    assert author.name == "new"


def test_save_of_a_missing_column_raises_the_clean_error():
    with pytest.raises(KeyError, match="Column 'n' not found in dataset"):
        Field(attribute="name", column_name="n").save(Book(), {"other": 1})


@pytest.fixture
def book_and_categories(db):
    book = Book.objects.create(name="b")
    names = ["c1", "c2", "c3"]
    categories = [Category.objects.create(name=name) for name in names]
    book.categories.set(categories[:1])
    return book, categories


def category_names(book):
    return sorted(book.categories.values_list("name", flat=True))


def test_save_many_to_many_replaces_the_related_set(book_and_categories):
    book, (c1, c2, c3) = book_and_categories
    field = Field(
        attribute="categories", column_name="c", widget=widgets.ManyToManyWidget(Category)
    )
    field.save(book, {"c": f"{c2.pk},{c3.pk}"}, is_m2m=True)
    assert category_names(book) == ["c2", "c3"]


def test_save_many_to_many_with_m2m_add_keeps_existing(book_and_categories):
    book, (c1, c2, c3) = book_and_categories
    field = Field(
        attribute="categories",
        column_name="c",
        widget=widgets.ManyToManyWidget(Category),
        m2m_add=True,
    )
    field.save(book, {"c": str(c3.pk)}, is_m2m=True)
    assert category_names(book) == ["c1", "c3"]


def test_save_many_to_many_with_empty_cell_clears_unless_adding(book_and_categories):
    book, _ = book_and_categories
    adding = Field(
        attribute="categories",
        column_name="c",
        widget=widgets.ManyToManyWidget(Category),
        m2m_add=True,
    )
    adding.save(book, {"c": ""}, is_m2m=True)
    assert category_names(book) == ["c1"]

    replacing = Field(
        attribute="categories", column_name="c", widget=widgets.ManyToManyWidget(Category)
    )
    replacing.save(book, {"c": ""}, is_m2m=True)
    assert category_names(book) == []


# -- export -------------------------------------------------------------------------------------


def test_export_renders_the_value_through_the_widget():
    field = Field(attribute="n", widget=widgets.IntegerWidget())
    assert field.export({"n": 3}) == "3"


def test_export_passes_keyword_arguments_to_the_widget():
    field = Field(attribute="n", widget=widgets.IntegerWidget())
    assert field.export({"n": 3}, force_native_type=True) == 3


def test_export_of_none_with_the_default_widget_is_empty_string():
    assert Field(attribute="missing").export(SimpleNamespace()) == ""


def test_export_with_default_widget_stringifies():
    assert Field(attribute="n").export({"n": 5}) == "5"


# -- dehydrate method, repr ---------------------------------------------------------------------


def test_dehydrate_method_defaults_to_prefix_and_field_name():
    assert Field().get_dehydrate_method("title") == "dehydrate_title"


def test_explicit_dehydrate_method_wins_over_the_field_name():
    assert Field(dehydrate_method="render_title").get_dehydrate_method("title") == "render_title"


def test_callable_dehydrate_method_is_returned_as_is():
    def render(obj):
        return obj

    assert Field(dehydrate_method=render).get_dehydrate_method("title") is render
    assert Field(dehydrate_method=render).get_dehydrate_method() is render


def test_dehydrate_method_without_any_name_is_an_error():
    with pytest.raises(FieldError, match="Both dehydrate_method and field_name are not supplied"):
        Field().get_dehydrate_method()


def test_repr_shows_the_column_name_when_there_is_one():
    assert repr(Field(column_name="Title")) == "<import_export.fields.Field: Title>"
    assert repr(Field()) == "<import_export.fields.Field>"


def test_repr_uses_the_subclass_path():
    class Custom(Field):
        pass

    assert repr(Custom(column_name="x")) == f"<{__name__}.Custom: x>"


def test_constructor_defaults():
    field = Field()
    assert field.attribute is None
    assert field.column_name is None
    assert type(field.widget) is widgets.Widget
    assert field.readonly is False
    assert field.saves_null_values is True
    assert field.dehydrate_method is None
    assert field.m2m_add is False


def test_each_field_gets_its_own_default_widget():
    assert Field().widget is not Field().widget
