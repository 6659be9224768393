"""Every Flask extension object, created once and bound in the app factory."""

from functools import cached_property

from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from market.josa import resolve_particles
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


class ParticleDomain(Domain):
    """The message catalogue, with Korean particles fitted to the words
    put into a message: "'%(status)s'(으)로" reads "'예정'으로" (market.josa).
    Templates fill in their variables in Jinja: market.core.web fits what
    they print."""

    def gettext(self, string, **variables):
        return resolve_particles(super().gettext(string, **variables))

    def ngettext(self, singular, plural, num, **variables):
        return resolve_particles(super().ngettext(singular, plural, num, **variables))

    def pgettext(self, context, string, **variables):
        return resolve_particles(super().pgettext(context, string, **variables))


class ParticleBabel(Babel):
    # Cached as Flask-Babel's own is: a new Domain starts with an empty
    # translation cache, so one per request read the catalogue from disk.
    @cached_property
    def domain_instance(self):
        return ParticleDomain(domain=self.domain)


babel = ParticleBabel()
limiter = Limiter(key_func=get_remote_address)
