"""`flask catalog import`: vendors and products from a CSV, validated whole before anything is written.

Every row is read and checked first (its cells typed as an admin types them, then the services' own rules);
any bad row is reported with its line and column and nothing of the file is written. Then everything is
written in one transaction, each change with its audit row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import func, select

from portal.catalog import services, typed
from portal.catalog.models import Product
from portal.extensions import db
from portal.history.services import Actor
from portal.vendors import services as vendor_services

HEADER = ["sku", "title", "kind", "price", "currency", "tax_rate", "hsn_sac", "stock", "vendor", "deposit", "active"]
COLUMN_OF = {"tax_rate_bp": "tax_rate", "vendor_id": "vendor", "description": "title"}  # service field → column


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class ImportRefused(ValueError):
    """The file has bad rows (all of them listed); nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


@dataclass
class Row:
    line: int
    values: dict  # the product service's plain values (vendor_id filled in when the vendor is written)
    vendor: str  # "" = the house
    product_id: int | None  # the existing product of this sku


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)
    new_vendors: list[str] = field(default_factory=list)
    vendor_ids: dict[str, int] = field(default_factory=dict)  # lower-cased name → existing vendor's id

    @property
    def creates(self) -> int:
        return sum(1 for r in self.rows if r.product_id is None)

    @property
    def updates(self) -> int:
        return len(self.rows) - self.creates


def read_csv(data: bytes) -> list[tuple[int, dict]]:
    """(line number, cells) of every data row; ImportRefused for an unreadable file or a wrong header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([Problem(1, "-", f"the file is not UTF-8 text ({exc.reason})")]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header != HEADER:
        raise ImportRefused([Problem(1, "-", "the header must be exactly " + ",".join(HEADER))])
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(HEADER):
            rows.append((reader.line_num, {"_width": str(len(cells))}))
            continue
        rows.append((reader.line_num, dict(zip(HEADER, (c.strip() for c in cells), strict=True))))
    return rows


def _typed(line: int, cells: dict, problems: list[Problem]) -> dict:
    """The row's cells as plain values; each unreadable cell a problem."""
    values = {"sku": cells["sku"], "title": cells["title"], "kind": cells["kind"].lower(), "hsn_sac": cells["hsn_sac"]}
    values["currency"] = (cells["currency"] or "INR").upper()
    readers = {
        "price": ("price", lambda t: typed.rupees(t, empty=None)),
        "deposit": ("deposit", typed.rupees),
        "tax_rate_bp": ("tax_rate", lambda t: typed.percent_bp(t or "18")),
        "stock": ("stock", typed.count),
        "active": ("active", typed.flag),
    }
    for name, (column, read) in readers.items():
        try:
            values[name] = read(cells[column])
        except typed.Unreadable as exc:
            problems.append(Problem(line, column, str(exc)))
    if not values["hsn_sac"]:
        values.pop("hsn_sac")  # the default SAC
    return values


def _existing_ids() -> dict[str, int]:
    """Every product's id by its lower-cased SKU (one read, whatever the file's size)."""
    return dict(db.session.execute(select(func.lower(Product.sku), Product.id)).all())


def _vendor_ids() -> dict[str, int]:
    from portal.vendors.models import Vendor

    return {name.lower(): vid for vid, name in db.session.execute(select(Vendor.id, Vendor.name)).all()}


def _check_row(row: Row, plan: Plan, problems: list[Problem]) -> None:
    """The services' own rules on a typed row (a new vendor's id is not known yet: checked by name)."""
    candidate = {**row.values, "vendor_id": plan.vendor_ids.get(row.vendor.lower())}
    try:
        services.clean(candidate, product_id=row.product_id)
    except services.ProductError as exc:
        problems.extend(Problem(row.line, COLUMN_OF.get(k, k), v) for k, v in exc.errors.items())
    if row.vendor and row.vendor.lower() not in plan.vendor_ids and row.vendor not in plan.new_vendors:
        try:
            vendor_services.clean({"name": row.vendor})
            plan.new_vendors.append(row.vendor)
        except vendor_services.VendorError as exc:
            problems.append(Problem(row.line, "vendor", exc.errors.get("name", str(exc))))


def plan_import(rows: list[tuple[int, dict]], progress=lambda item: item) -> Plan:
    """Check every row; ImportRefused listing every problem, else the plan of what to write."""
    problems: list[Problem] = []
    plan = Plan(vendor_ids=_vendor_ids())
    existing = _existing_ids()
    seen: dict[str, int] = {}
    for line, cells in progress(rows):
        if "_width" in cells:
            problems.append(Problem(line, "-", f"{cells['_width']} cells, expected {len(HEADER)}"))
            continue
        if (first := seen.setdefault(cells["sku"].lower(), line)) != line:
            problems.append(Problem(line, "sku", f"the SKU {cells['sku']} is already on line {first}"))
            continue
        count = len(problems)
        row = Row(line, _typed(line, cells, problems), cells["vendor"], existing.get(cells["sku"].lower()))
        if len(problems) == count:
            _check_row(row, plan, problems)
            plan.rows.append(row)
    if problems:
        raise ImportRefused(problems)
    return plan


def apply_plan(plan: Plan, *, actor: Actor, progress=lambda item: item) -> tuple[int, int, int]:
    """Write the plan in one transaction: (products created, products changed, vendors created)."""
    created = changed = 0
    try:
        for name in plan.new_vendors:
            plan.vendor_ids[name.lower()] = vendor_services.add_vendor({"name": name}, actor=actor).id
        for row in progress(plan.rows):
            values = {**row.values, "vendor_id": plan.vendor_ids.get(row.vendor.lower())}
            if row.product_id is None:
                services.add_product(values, actor=actor)
                created += 1
            elif services.apply_changes(services.locked_product(row.product_id), values, actor=actor):
                changed += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return created, changed, len(plan.new_vendors)
