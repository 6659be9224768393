"""Demo customers: a generated order export of a few thousand rows, imported
through the same two passes staff use (idempotent: order numbers repeat)."""

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from market.customers import services
from market.customers.models import CustomerImport, ImportStatus
from market.customers.samples import write_order_file
from market.extensions import db
from market.timeutil import utcnow

DEMO_SELLERS = (
    "한국컴퓨터재생센터",
    "행복플러스",
    "잔다리마을공동체",
    "우리밀협동조합",
    "초록손공방",
    "이웃사랑 두부",
)
DEMO_ROWS = 3000
DEMO_FILE = "gmarket-orders-demo.csv"


def seed_customers() -> list[str]:
    done = select(CustomerImport.id).where(
        CustomerImport.filename == DEMO_FILE, CustomerImport.status == ImportStatus.DONE
    )
    if db.session.scalar(done):
        return []
    folder = Path(current_app.instance_path, "demo")
    folder.mkdir(parents=True, exist_ok=True)
    path = write_order_file(
        folder / DEMO_FILE, DEMO_ROWS, DEMO_SELLERS, end=utcnow(), seed=2026, customers=400
    )
    job = services.register_file(path)
    db.session.commit()
    job = services.run_check(job.id)
    if job.status is not ImportStatus.CHECKED or not job.orders_new:
        return []
    job = services.run_import(job.id)
    return [f"{job.orders_new} orders from {job.customers_new} online customers"]
