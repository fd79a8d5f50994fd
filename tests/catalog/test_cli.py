"""`flask catalog import` through the real CLI runner and database."""

from portal.catalog.models import Product
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.vendors.models import Vendor

HEADER = "sku,title,kind,price,currency,tax_rate,hsn_sac,stock,vendor,deposit,active\n"
GOOD = (
    HEADER
    + 'CAM-1,Mirrorless camera,rental,"1,250.00",INR,18,997319,2,Lens Hire,"10,000",yes\n'
    + "BK-1,Kannada reader,good,350,INR,5,4901,40,Kannada Books,,\n"
    + "CRS-1,Python course,course,4999.50,,18,,,,,\n"
)


def _run(runner, tmp_path, text, *args):
    path = tmp_path / "catalog.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["catalog", "import", str(path), *args])


def test_a_good_file_creates_products_and_vendors_in_paise_with_one_summary_line(runner, tmp_path):
    result = _run(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "created 3, updated 0 products; created 2 vendors"
    camera = Product.query.filter_by(sku="CAM-1").one()
    assert (camera.price, camera.deposit, camera.stock, camera.vendor.name) == (125000, 1000000, 2, "Lens Hire")
    course = Product.query.filter_by(sku="CRS-1").one()
    assert (course.price, course.vendor_id, course.stock, course.tax_rate_bp) == (499950, None, None, 1800)
    assert Product.query.filter_by(sku="BK-1").one().tax_rate_bp == 500
    assert HistoryEvent.query.filter_by(entity_type="product", action="create").count() == 3


def test_a_second_import_updates_by_sku_and_records_the_changes(runner, tmp_path):
    _run(runner, tmp_path, GOOD)
    result = _run(runner, tmp_path, GOOD.replace("350,INR,5", "375,INR,5"))
    assert result.exit_code == 0, result.output
    assert "created 0, updated 1 products; created 0 vendors (2 unchanged)" in result.output
    book = Product.query.filter_by(sku="BK-1").one()
    [event] = HistoryEvent.query.filter_by(entity_type="product", entity_id=book.id, action="update").all()
    assert event.changes == {"price": [35000, 37500]}


def test_a_bad_row_is_reported_with_line_and_column_and_nothing_is_written(runner, tmp_path):
    bad = GOOD + "X-2,Broken,good,12.345,INR,18,,5,New Vendor,,\n" + "X-3,Also broken,gadget,10,INR,18,,,,,\n"
    result = _run(runner, tmp_path, bad)
    assert result.exit_code != 0
    assert "line 5, column price" in result.output and "line 6, column kind" in result.output
    assert "nothing was written" in result.output
    assert Product.query.count() == 0 and Vendor.query.count() == 0


def test_a_duplicate_sku_a_wrong_header_and_a_short_row_are_refused(runner, tmp_path):
    duplicate = _run(runner, tmp_path, GOOD + "cam-1,Again,rental,1,INR,18,,1,,,\n")
    assert duplicate.exit_code != 0 and "line 5, column sku: the SKU cam-1 is already on line 2" in duplicate.output
    header = _run(runner, tmp_path, "sku,title\nA,B\n")
    assert header.exit_code != 0 and "line 1" in header.output
    short = _run(runner, tmp_path, HEADER + "A,B,course\n")
    assert short.exit_code != 0 and "line 2, column -: 3 cells, expected 11" in short.output
    assert Product.query.count() == 0


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(runner, tmp_path):
    result = _run(runner, tmp_path, GOOD, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would create 3, update 0 products; create 2 vendors" in result.output
    assert db.session.query(Product).count() == 0 and Vendor.query.count() == 0
