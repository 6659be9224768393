"""굿모닝장터 manager: the app factory."""

import os

from flask import Flask

from market import config as market_config
from market.paths import resource_dir


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("MARKET_INSTANCE_PATH") or None,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.from_object(market_config.DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    market_config.load_environment(app.config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    market_config.finalise(app.config, app.instance_path)

    register_extensions(app)
    from market.core.converters import register_converters

    register_converters(app)
    register_blueprints(app)
    from market.core import versions

    # Every model is known by now: the signed-in pages' scope watches them all.
    versions.watch_all(versions.STAFF, versions.NOT_SHOWN_ON_STAFF_PAGES)
    register_cli(app)

    from market.core.web import register_web_hooks

    register_web_hooks(app)
    register_template_helpers(app)
    register_listeners(app)
    register_audit_labels()
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies the app sees the visitor's
    address, https and the public host from their X-Forwarded-* headers
    (for rate limits, the CSRF referrer check and absolute links). With 0
    those headers are ignored: anyone could send them to a directly reached app."""
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from market import models  # noqa: F401  (every model known to Alembic)
    from market.core import pagecache, signed_in_pages
    from market.core.i18n import select_locale
    from market.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    pagecache.init_app(app)
    signed_in_pages.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to open this page.")
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from market.accounts.admin_views import bp as users_bp
    from market.accounts.views import bp as accounts_bp
    from market.audit.views import bp as audit_bp
    from market.booths.views import bp as booths_bp
    from market.core.views import bp as core_bp
    from market.customers.views import bp as customers_bp
    from market.home.views import bp as home_bp
    from market.inbox.views import bp as inbox_bp
    from market.invitations.checkin_views import bp as checkin_bp
    from market.invitations.customer_views import bp as customer_pages_bp
    from market.invitations.report_views import bp as invitation_reports_bp
    from market.invitations.views import bp as invitations_bp
    from market.markets.planning_views import bp as market_planning_bp
    from market.markets.venue_views import bp as venues_bp
    from market.markets.views import bp as markets_bp
    from market.outbox.views import bp as outbox_bp
    from market.public.views import bp as public_bp
    from market.sales.seller_views import bp as sales_sellers_bp
    from market.sales.views import bp as sales_bp
    from market.takings.staff_views import bp as takings_bp
    from market.takings.vendor_views import bp as vendor_takings_bp
    from market.vendors.export_views import bp as vendor_exports_bp
    from market.vendors.staff_views import applications_bp
    from market.vendors.staff_views import bp as vendor_admin_bp
    from market.vendors.vendor_views import bp as vendor_bp
    from market.vendors.views import bp as vendors_bp

    for blueprint in (
        core_bp,
        home_bp,
        public_bp,
        accounts_bp,
        users_bp,
        audit_bp,
        outbox_bp,
        inbox_bp,
        markets_bp,
        market_planning_bp,
        booths_bp,
        venues_bp,
        customers_bp,
        customer_pages_bp,
        invitations_bp,
        checkin_bp,
        invitation_reports_bp,
        vendors_bp,
        vendor_bp,
        vendor_admin_bp,
        applications_bp,
        vendor_exports_bp,
        takings_bp,
        vendor_takings_bp,
        sales_bp,
        sales_sellers_bp,
    ):
        app.register_blueprint(blueprint)


def register_template_helpers(app: Flask) -> None:
    """Each area's Jinja filters and globals, registered by the area itself."""
    from market.audit.views import register_template_helpers as audit
    from market.booths.views import register_template_helpers as booths
    from market.core.web import register_template_helpers as core
    from market.invitations.views import register_template_helpers as invitations
    from market.markets.views import register_template_helpers as markets
    from market.public.views import register_template_helpers as public
    from market.vendors.labels import register_template_helpers as vendors

    for register in (core, audit, markets, vendors, booths, invitations, public):
        register(app)


def register_audit_labels() -> None:
    """Each area's words for its audit entries (market.audit.labels): the
    audit page sits low and only renders them."""
    from market.booths.audit_labels import describe as booths
    from market.customers.audit_labels import describe as customers
    from market.invitations.audit_labels import describe as invitations
    from market.markets.audit_labels import describe as markets
    from market.outbox.audit_labels import describe as outbox
    from market.takings.audit_labels import describe as takings
    from market.vendors.audit_labels import describe as vendors

    for describe in (outbox, markets, vendors, customers, booths, takings, invitations):
        describe()


def register_cli(app: Flask) -> None:
    from market.cli import register_commands

    register_commands(app)


def register_listeners(app: Flask) -> None:
    """Reactions of one area to another's changes (blinker signals)."""
    from market.booths.listeners import connect_listeners as connect_booths
    from market.invitations.listeners import connect_listeners as connect_invitations
    from market.outbox.account_mails import connect_listeners as connect_account_mails
    from market.takings.listeners import connect_listeners as connect_takings

    connect_account_mails(app)
    connect_invitations(app)
    connect_booths(app)
    connect_takings(app)
