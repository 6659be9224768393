from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from market.core.forms import AppForm


class UploadForm(AppForm):
    file = FileField(
        _l("Order export (.csv or .xlsx)"),
        validators=[FileRequired(_l("Choose the order file to upload."))],
    )


class RunImportForm(AppForm):
    good_rows_only = BooleanField(_l("Import only the good rows and skip the bad ones"))
