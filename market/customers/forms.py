from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    file = FileField(
        _l("Order export (.csv or .xlsx)"),
        validators=[FileRequired(_l("Choose the order file to upload."))],
    )


class RunImportForm(FlaskForm):
    good_rows_only = BooleanField(_l("Import only the good rows and skip the bad ones"))
