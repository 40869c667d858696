"""Device states, on the device page's tables and in tickets' titles, in the site's language."""

from __future__ import annotations

from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.i18n import translator
from gateway.i18n.states import WORDS, state_text
from gateway.present.summary import State
from gateway.present.tables import TEXT, Cell, shared_title
from gateway.views.pages import cell_text

CHINESE, ENGLISH = translator("zh-CN"), translator("en")


def test_every_state_of_a_shipped_profile_has_its_word() -> None:
    """A new profile's states, of its points and of its tables' columns, join `WORDS`
    (and the catalog test then asks for their translation): the device page's tables
    and the tickets' titles (``{ups.battery_status}``) show them as words."""
    missing = []
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        profile, _, _ = _load_profile(path.stem, [BUILTIN_PROFILES])
        assert profile is not None
        points = dict(profile.points)
        for table_name, table in profile.tables.items():
            points |= {f"{table_name}.{column}": p for column, p in table.columns.items()}
        missing += [
            f"{path.stem}: {name}: {state}"
            for name, point in points.items()
            for state in (point.states or {}).values()
            if state not in WORDS
        ]
    assert missing == []


def test_the_codes_of_a_protocols_access_reading_have_their_words() -> None:
    """``access`` (HTTP and AMI readers) is ``ok`` or says why the device refused the
    gateway; a title names it (``{access}``)."""
    assert {"ok", "auth_failed", "tls_failed"} <= WORDS.keys()
    assert state_text("auth_failed", CHINESE) == "认证失败"


def test_a_state_reads_in_the_sites_language() -> None:
    assert state_text("not_recording", CHINESE) == "未录像"
    assert state_text("not_recording", ENGLISH) == "not recording"
    assert state_text("own_state_of_a_site_profile", CHINESE) == "own state of a site profile"


def test_table_cells_show_states_and_flags_translated_and_other_text_as_it_is() -> None:
    recording = Cell("recording", "recording", State.OK)
    assert cell_text(recording, CHINESE) == "录像中"
    assert cell_text(recording, ENGLISH) == "recording"
    assert cell_text(Cell(TEXT["yes"], 1, State.DEGRADED), CHINESE) == "是"
    assert cell_text(Cell("Camera 01", "Camera 01"), CHINESE) == "Camera 01"
    assert cell_text(Cell("2.26 TB", 2.26e6), CHINESE) == "2.26 TB"


def test_columns_sharing_a_meaning_are_named_by_their_direction_in_the_sites_language() -> None:
    assert shared_title("错包", "in errors", CHINESE) == "入错包"
    assert shared_title("流量", "out octets", CHINESE) == "出流量"
    assert shared_title("Errors", "in errors") == "Errors in"
    assert shared_title("Temperature", "board", CHINESE) == "Temperature (board)"
