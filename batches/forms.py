import re
from decimal import Decimal

from django import forms
from django.urls import reverse_lazy

from core.forms import LocalDecimalField, SubmittedOnce
from core.tenancy import company_today
from growers.models import Block, FruitType
from packhouses.models import Packhouse

# A delivery rarely has more; a paste of a whole day's scans is a mistake, not a delivery.
MAX_BINS = 1000


def kg(label, **kwargs):
    return LocalDecimalField(label=label, max_digits=10, decimal_places=2, min_value=0, **kwargs)


class BlockField(forms.CharField):
    """A block picked as "farm code/block code": a text input with search suggestions, like GrowerCodeField.

    The suggestions come from /batches/blocks/ as <option>s for a <datalist>, each
    showing grower, farm and block; without JavaScript, typing "G0042-F1/B07" works.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Block")
        kwargs.setdefault("max_length", 300)  # a pasted suggestion carries names too
        kwargs.setdefault("help_text", "Type a grower, farm or block code or name and pick the block, "
                                       "or type farm code/block code, e.g. G0042-F1/B07.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({
            "list": "block-options", "autocomplete": "off", "spellcheck": "false", "data-block-picker": "",
            "hx-get": reverse_lazy("batches:block_options"), "hx-trigger": "input changed delay:200ms",
            "hx-target": "#block-options", "hx-swap": "innerHTML",
        })
        return attrs

    def clean(self, value):
        text = super().clean(value).strip().upper()
        if not text:
            return None
        if "·" in text:
            # A whole suggestion label: "G0019 NAME · G0019-F2 FARM NAME · B07 (APPLE GALA)".
            words = [part.split()[:1] for part in text.split("·")] + [[], [], []]
            farm, code = (words[1] or [""])[0], (words[2] or [""])[0]
        else:
            farm, _, code = text.partition("/")
            farm, code = farm.strip(), (code.split() or [""])[0]
        if not farm or not code:
            raise forms.ValidationError(
                "Pick a block from the list, or type farm code/block code, e.g. G0042-F1/B07.", code="block_format",
            )
        try:
            return Block.objects.select_related("farm__grower").get(farm__code=farm, code=code)
        except Block.DoesNotExist:
            raise forms.ValidationError(f"No block {farm}/{code}: check the farm and block codes.",
                                        code="unknown_block") from None

    def prepare_value(self, value):
        return str(value) if isinstance(value, Block) else value


class BinCodesField(forms.CharField):
    """Scanned bin codes, one per line (a scanner types the code and Enter). The service checks each code."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Bin codes")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Scan each bin (or type its code and press Enter). "
                                       "When bins are scanned, the bin count is their number.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"rows": 3, "autocomplete": "off", "spellcheck": "false", "data-bin-scanner": ""})
        return attrs

    def to_python(self, value):
        # Scanners end a code with Enter; a pasted list may use commas or spaces. Codes hold neither.
        codes = [code for code in re.split(r"[\s,;]+", super().to_python(value) or "") if code]
        if len(codes) > MAX_BINS:
            raise forms.ValidationError(f"{len(codes)} bin codes: at most {MAX_BINS} fit one delivery.",
                                        code="too_many_bins")
        return codes

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


class IntakeForm(SubmittedOnce):
    """A delivery at the weighbridge. The rules live in batches.services.record_intake.

    The clerk names the block; grower, fruit type and variety are the block's.
    Submitted once: a second press of Save (or a reload of the post) shows the first batch.
    """

    block = BlockField()
    packhouse = forms.ModelChoiceField(queryset=Packhouse.objects.filter(active=True), empty_label=None)
    harvest_date = forms.DateField(label="Harvest date", widget=forms.DateInput(attrs={"type": "date"}))
    bins = BinCodesField()
    bin_count = forms.IntegerField(label="Bins", min_value=1, max_value=100_000, required=False,
                                   help_text="Filled in from the scanned codes; type it when bins are not scanned.",
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    gross_weight_kg = kg("Gross weight (kg)")
    tare_weight_kg = kg("Tare weight (kg)")
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    # Shown only once the service found something unusual (record_intake's unusual_intake); ticking it records
    # the override in the batch's history.
    confirm_unusual = forms.BooleanField(label="These figures are right: record them", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["harvest_date"].widget.attrs["max"] = company_today().isoformat()
        self.fields["harvest_date"].initial = company_today()

    def clean(self):
        data = super().clean()
        if not data.get("bins") and data.get("bin_count") is None and "bin_count" not in self.errors:
            self.add_error("bin_count", forms.ValidationError("Enter the number of bins, or scan their codes.",
                                                              code="required"))
        return data

    def asks_confirmation(self):
        """Whether to show the confirmation box: the service asked for it, or it was ticked already."""
        return bool(self.errors.get("confirm_unusual")) or (self.is_bound and self["confirm_unusual"].value())

    def picked_block(self):
        """The block the form names, to show its grower, fruit and variety; None before one is picked."""
        if self.is_bound:
            return getattr(self, "cleaned_data", {}).get("block")
        initial = self.initial.get("block")
        return initial if isinstance(initial, Block) else None


class TransitionForm(forms.Form):
    to_status = forms.CharField(max_length=20)
    reason = forms.CharField(required=False, max_length=2000, label="Reason for rejecting",
                             widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class PackoutForm(forms.Form):
    class1_kg = kg("Class 1 (kg)")
    class2_kg = kg("Class 2 (kg)")
    class3_kg = kg("Class 3 (kg)")
    waste_kg = kg("Waste (kg)")
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class BinWeightRangesForm(forms.Form):
    """The company's usual net kg per bin, a lowest and a highest for each fruit (batches.models.BinWeightRange)."""

    def __init__(self, *args, ranges, **kwargs):
        super().__init__(*args, **kwargs)
        for fruit, label in FruitType.choices:
            low, high = ranges[fruit]
            self.fields[f"{fruit}_min"] = LocalDecimalField(label=f"{label}: lowest", max_digits=10,
                                                            decimal_places=2, min_value=Decimal("0.01"), initial=low)
            self.fields[f"{fruit}_max"] = LocalDecimalField(label=f"{label}: highest", max_digits=10,
                                                            decimal_places=2, min_value=Decimal("0.01"), initial=high)
            for name in (f"{fruit}_min", f"{fruit}_max"):
                self.fields[name].widget.attrs["aria-label"] = f"{self.fields[name].label} net kg per bin"

    def rows(self):
        """(fruit label, lowest field, highest field) per fruit, for the table."""
        return [(label, self[f"{fruit}_min"], self[f"{fruit}_max"]) for fruit, label in FruitType.choices]

    def changed_ranges(self):
        """{fruit: (lowest, highest)} for each fruit whose figures changed."""
        changed = {name.rsplit("_", 1)[0] for name in self.changed_data}
        return {fruit: (self.cleaned_data[f"{fruit}_min"], self.cleaned_data[f"{fruit}_max"])
                for fruit in FruitType.values if fruit in changed}


class CorrectionForm(forms.Form):
    """A manager's correction of what was recorded at intake (services.correct_batch). The reason is required."""

    block = BlockField(help_text="Another block of the same grower; fruit type and variety follow it.")
    harvest_date = forms.DateField(label="Harvest date", widget=forms.DateInput(attrs={"type": "date"}))
    bin_count = forms.IntegerField(label="Bins", min_value=1, max_value=100_000,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    gross_weight_kg = kg("Gross weight (kg)")
    tare_weight_kg = kg("Tare weight (kg)")
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm_unusual = forms.BooleanField(label="These figures are right: record them", required=False)
    reason = forms.CharField(max_length=2000, label="Reason for the correction",
                             help_text="Kept in the batch's history, e.g. \"weighbridge ticket 4411 re-read\".",
                             widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    CHANGEABLE = ("block", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg", "notes")

    @classmethod
    def for_batch(cls, batch, data=None):
        initial = {name: getattr(batch, name) for name in cls.CHANGEABLE}
        return cls(data, initial={**initial, "version": batch.version})

    def changes(self):
        """Only the fields the manager changed: the history shows those, and nothing else."""
        # Compared as values, not as the form's text: the block's initial is a Block, its data a code.
        return {name: self.cleaned_data[name] for name in self.CHANGEABLE
                if self.cleaned_data[name] != self.initial.get(name)}

    def asks_confirmation(self):
        return bool(self.errors.get("confirm_unusual")) or (self.is_bound and self["confirm_unusual"].value())

    def picked_block(self):
        block = getattr(self, "cleaned_data", {}).get("block") if self.is_bound else self.initial.get("block")
        return block if isinstance(block, Block) else None
