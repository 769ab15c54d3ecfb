from django import forms

from .kinds import may_import
from .models import Kind
from .parsing import MAX_BYTES


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file holds", choices=())
    file = forms.FileField(label="Spreadsheet", help_text="A .csv (UTF-8) or .xlsx file; its first row names the "
                           "columns. Nothing is saved until you confirm the preview.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(value, label) for value, label in Kind.choices if may_import(user, value)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB. Split it.")
        return upload
