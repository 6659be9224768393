"""The check-in page's two forms: the pass's short code, and name plus the
last four digits of the phone. Both are checked by market.invitations.checkin
(which says what is wrong in words staff at a gate understand)."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from market.core.forms import AppForm


class CodeForm(AppForm):
    code = StringField(_l("Code on the pass"))


class FindForm(AppForm):
    name = StringField(_l("Name"))
    phone = StringField(_l("Last 4 digits of the phone"))
