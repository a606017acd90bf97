"""Models of the test project: every kind of field the widgets handle, every kind of relation."""

import uuid

from django.contrib.auth.models import User
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    birthday = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self):
        return self.name


class Book(models.Model):
    name = models.CharField("Book name", max_length=100)
    author = models.ForeignKey(Author, blank=True, null=True, on_delete=models.CASCADE)
    author_email = models.EmailField("Email of the author", blank=True)
    imported = models.BooleanField(default=False)
    published = models.DateField("Published", blank=True, null=True)
    published_time = models.TimeField("Time published", blank=True, null=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    added = models.DateTimeField(blank=True, null=True)
    categories = models.ManyToManyField(Category, blank=True)

    def __str__(self):
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)
    is_private = models.BooleanField(default=True)

    def __str__(self):
        return f"profile of {self.user}"


class AllTypes(models.Model):
    """One column of each scalar type the widgets convert."""

    char = models.CharField(max_length=50, blank=True, default="")
    text = models.TextField(blank=True, default="")
    small_int = models.SmallIntegerField(null=True, blank=True)
    integer = models.IntegerField(null=True, blank=True)
    big_int = models.BigIntegerField(null=True, blank=True)
    positive_int = models.PositiveIntegerField(null=True, blank=True)
    decimal = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    floating = models.FloatField(null=True, blank=True)
    boolean = models.BooleanField(default=False)
    nullable_boolean = models.BooleanField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    datetime = models.DateTimeField(null=True, blank=True)
    time = models.TimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    json = models.JSONField(null=True, blank=True)
    email = models.EmailField(blank=True, default="")
    slug = models.SlugField(blank=True, default="")
    url = models.URLField(blank=True, default="")

    def __str__(self):
        return f"AllTypes {self.pk}"


class UUIDCategory(models.Model):
    catid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=32)

    def __str__(self):
        return self.name


class UUIDBook(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("Book name", max_length=100)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL)
    categories = models.ManyToManyField(UUIDCategory, blank=True)

    def __str__(self):
        return self.name


class PublisherManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class Publisher(models.Model):
    """Has a natural key, so foreign keys to it can be exported as names."""

    name = models.CharField(max_length=100, unique=True)
    country = models.CharField(max_length=50, blank=True, default="")

    objects = PublisherManager()

    def natural_key(self):
        return (self.name,)

    def __str__(self):
        return self.name


class Magazine(models.Model):
    title = models.CharField(max_length=100)
    publisher = models.ForeignKey(Publisher, null=True, blank=True, on_delete=models.SET_NULL)
    issue = models.PositiveIntegerField(default=1)

    def __str__(self):
        return self.title


class Place(models.Model):
    """Parent of a multi-table inheritance pair."""

    name = models.CharField(max_length=100)
    address = models.CharField(max_length=200, blank=True, default="")

    def __str__(self):
        return self.name


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)


class Repository(models.Model):
    """A content repository, in the shape pulpcore exports."""

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")

    def __str__(self):
        return self.name


class Package(models.Model):
    """A pulpcore-shaped content unit: wide text columns and a foreign key exported by name."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=255)
    epoch = models.CharField(max_length=10, default="0")
    version = models.CharField(max_length=255)
    release = models.CharField(max_length=255)
    arch = models.CharField(max_length=20)
    pkg_id = models.CharField(max_length=128, db_index=True)
    checksum_type = models.CharField(max_length=10, default="sha256")
    summary = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    url = models.TextField(blank=True, default="")
    size_package = models.BigIntegerField(default=0)
    time_build = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}-{self.version}-{self.release}.{self.arch}"


class PulpDomainManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


class PulpDomain(models.Model):
    """pulpcore's domain/repository shape: a UUID primary key and a natural key (its name)."""

    pulp_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(null=True, blank=True)

    objects = PulpDomainManager()

    def natural_key(self):
        return (self.name,)

    def __str__(self):
        return self.name


class PulpContent(models.Model):
    """pulpcore's ``Content`` base: UUID primary key, a nullable non-pk UUID, a JSON column."""

    pulp_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pulp_type = models.CharField(max_length=128, default="core.content")
    upstream_id = models.UUIDField(null=True, blank=True)
    pulp_labels = models.JSONField(default=dict, blank=True)
    timestamp_of_interest = models.DateTimeField(null=True, blank=True)
    domain = models.ForeignKey(PulpDomain, null=True, blank=True, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.pulp_type} {self.pulp_id}"


class PulpPackage(PulpContent):
    """A content type in the multi-table inheritance pulpcore uses (``content_ptr`` to the base)."""

    name = models.CharField(max_length=255)
    version = models.CharField(max_length=255)
    release = models.CharField(max_length=255, blank=True, default="")
    arch = models.CharField(max_length=20, blank=True, default="")
    checksum = models.CharField(max_length=128, null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    files = models.JSONField(default=list, blank=True)
    location = models.FileField(max_length=255, null=True, blank=True)
    server = models.GenericIPAddressField(null=True, blank=True)


class NullableTypes(models.Model):
    """Every field type of the test project as a nullable, non-primary-key column."""

    char = models.CharField(max_length=20, null=True, blank=True)
    text = models.TextField(null=True, blank=True)
    small_int = models.SmallIntegerField(null=True, blank=True)
    integer = models.IntegerField(null=True, blank=True)
    big_int = models.BigIntegerField(null=True, blank=True)
    positive_int = models.PositiveIntegerField(null=True, blank=True)
    decimal = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    floating = models.FloatField(null=True, blank=True)
    nullable_boolean = models.BooleanField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    datetime = models.DateTimeField(null=True, blank=True)
    time = models.TimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    json = models.JSONField(null=True, blank=True)
    email = models.EmailField(null=True, blank=True)
    slug = models.SlugField(null=True, blank=True)
    url = models.URLField(null=True, blank=True)
    uuid = models.UUIDField(null=True, blank=True)
    file = models.FileField(max_length=120, null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self):
        return f"NullableTypes {self.pk}"
