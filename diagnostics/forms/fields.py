"""The text rule of `diagnostics.text` on every form: mix `TextFormMixin` into a form.

Every text field gets the control-character validator, with the field's label in its
message; its length limit is the model's when the field comes from a model. Every model
choice field refuses, as an invalid choice and without a query, a value holding a control
character (PostgreSQL refuses NUL) or a primary key that is not plain ASCII digits
(Python's int() reads '١٢٣', '𝟙𝟚𝟛' and '1_000').
"""

from django import forms
from django.core.exceptions import ValidationError

from ..text import TextValidator, control_character, is_ascii_integer


def _is_integer_pk(field):
    model = field.queryset.model
    key = model._meta.get_field(field.to_field_name) if field.to_field_name else model._meta.pk
    return key.get_internal_type() in {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "SmallIntegerField",
    }


def is_clean_key(field, value):
    """Whether `value` may be looked up by the model choice field `field`."""
    if value in field.empty_values or isinstance(value, field.queryset.model):
        return True
    if control_character(str(value)) is not None:
        return False
    return is_ascii_integer(value) if _is_integer_pk(field) else True


def _guarded_clean(field):
    clean = field.clean

    def guarded(value):
        values = value if isinstance(value, (list, tuple)) else [value]
        if not all(is_clean_key(field, item) for item in values):
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": ""},
            )
        return clean(value)

    guarded.text_rule = True
    return guarded


def apply_text_rule(form_fields):
    """Put the text rule on these fields (idempotent)."""
    for field in form_fields.values():
        if isinstance(field, forms.CharField):
            field.validators = [
                validator
                for validator in field.validators
                if not isinstance(validator, TextValidator)
            ] + [TextValidator(label=field.label)]
        elif isinstance(field, forms.ModelChoiceField) and not getattr(
            field.clean, "text_rule", False
        ):
            field.clean = _guarded_clean(field)


class TextFormMixin:
    """The text rule on every field of the form, those added after its __init__ too."""

    def full_clean(self):
        apply_text_rule(self.fields)
        super().full_clean()
