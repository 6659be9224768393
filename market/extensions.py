"""Every Flask extension object, created once and bound in the app factory."""

from functools import cached_property
from weakref import WeakKeyDictionary

from flask import g
from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from market.josa import translated
from market.paths import PACKAGE_DIR

# Named constraints so Alembic can alter them on SQLite (batch mode) and on
# PostgreSQL alike, and so error messages name the rule that was broken.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()


# A catalogue's finished texts, kept with the catalogue (market.core.i18n
# fills them); a catalogue re-read from disk starts empty.
_CATALOGUE_TEXTS: WeakKeyDictionary = WeakKeyDictionary()


def request_catalogue(domain: Domain | None = None):
    """The catalogue of this request's language (in `domain`, by default the
    request's), and a dict that lives as long as that catalogue, for texts
    made from it (market.core.i18n).

    Flask-Babel finds the catalogue anew for every string (its context on
    `g`, the domain, the locale, the cache, each through Flask's context
    proxies: ~20 µs, and a staff page translates 500-1,500 strings). Here it
    is found once and kept on Flask-Babel's own per-request context next to
    the language it was found for: a changed language (force_locale for a
    mail, refresh()) or domain is seen at the next string. Outside an app
    context it is Flask-Babel's empty catalogue, as before. (`g` is read
    through _get_current_object(): the proxy's attribute lookup alone cost
    about 1 µs, more than the rest together.)"""
    try:
        babel_context = g._get_current_object()._flask_babel
        locale, bound_domain, translations, texts = babel_context.market_catalogue
        if locale is babel_context.babel_locale and bound_domain is (
            domain or babel_context.babel_domain
        ):
            return translations, texts
    except (AttributeError, RuntimeError):
        pass
    from flask_babel import get_domain, get_locale

    request_domain = get_domain()
    domain = domain or request_domain
    translations = Domain.get_translations(domain)
    texts = _CATALOGUE_TEXTS.setdefault(translations, {})
    locale = get_locale()
    if locale is not None and domain is request_domain:
        g._flask_babel.market_catalogue = (locale, domain, translations, texts)
    return translations, texts


class ParticleDomain(Domain):
    """The message catalogue, with the Korean particles a translation writes
    fitted to the words put into it: "'%(status)s'(으)로" reads "'예정'으로"
    (market.josa.translated, the one place the rule runs for a message:
    Python's gettext here, lazy labels formatted later with % through it,
    templates' _() in market.core.i18n). Only the translation's own markers
    are fitted: a value put into it is data and is written as it is."""

    def get_translations(self):
        return request_catalogue(self)[0]

    def gettext(self, string, **variables):
        return translated(self.get_translations().ugettext(string), variables)

    def ngettext(self, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return translated(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context, string, **variables):
        return translated(self.get_translations().upgettext(context, string), variables)

    def npgettext(self, context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = self.get_translations().unpgettext(context, singular, plural, num)
        return translated(text, variables)


class ParticleBabel(Babel):
    # Cached as Flask-Babel's own is: a new Domain starts with an empty
    # translation cache, so one per request read the catalogue from disk.
    @cached_property
    def domain_instance(self):
        return ParticleDomain(domain=self.domain)


babel = ParticleBabel()
limiter = Limiter(key_func=get_remote_address)
