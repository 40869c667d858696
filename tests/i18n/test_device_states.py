"""Device states on the device page's tables, in the site's language."""

from __future__ import annotations

from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.i18n import translator
from gateway.present.states import WORDS, state_text
from gateway.present.summary import State
from gateway.present.tables import TEXT, Cell, shared_title
from gateway.views.pages import cell_text

CHINESE, ENGLISH = translator("zh-CN"), translator("en")


def test_every_state_of_a_shipped_profiles_tables_has_its_word() -> None:
    """A new profile's table states join `WORDS` (and the catalog test then asks for
    their translation)."""
    missing = []
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        profile, _, _ = _load_profile(path.stem, [BUILTIN_PROFILES])
        assert profile is not None
        for table_name, table in profile.tables.items():
            for column, point in table.columns.items():
                missing += [
                    f"{path.stem}: {table_name}.{column}: {state}"
                    for state in (point.states or {}).values()
                    if state not in WORDS
                ]
    assert missing == []


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
