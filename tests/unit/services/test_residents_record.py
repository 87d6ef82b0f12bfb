"""An item as a resident reads it, folded from its events (no I/O): plain sentences per hold point, defects with
their before and after photos, stop-work orders; and the few words the lists use."""

from __future__ import annotations

from datetime import timedelta, timezone

from domain import commands as c
from services.web.residents.community import fraction_zh, rule_zh, short_code
from services.web.residents.record import fold, resident_words, units_in_words
from tests.support import World, photo

SITE = timezone(timedelta(hours=8))


def test_a_hold_point_reads_as_sentences_each_limit_once_and_choices_in_chinese(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="concealed_works")
    item = world.app.get_item(item_id)
    record = fold(item.parsed_template, world.app.events.get(item_id), SITE)
    pressure = next(hp for hp in record.hold_points if hp.code == "pressure_test")
    assert pressure.result_zh == "合格" and pressure.passed
    assert pressure.sentences.count("试验压力 0.6 MPa，要求不低于 0.6 MPa，合格") == 1  # two limits, one sentence
    assert "稳压时间 10 分钟，要求不低于 10 分钟，合格" in pressure.sentences  # units in words, MPa as on the gauge
    assert "介质：给水" in pressure.sentences and "管材：金属管" in pressure.sentences
    assert pressure.photos == [photo("pressure_test-0")]
    concealed = next(hp for hp in record.hold_points if hp.code == "concealed_works")
    assert concealed.result_zh is None and not concealed.passed
    assert record.planned is None and record.completed is None


def test_defects_keep_their_before_and_after_photos_and_reopen_a_passed_hold_point(world: World) -> None:
    item_id = world.new_item()
    world.pass_through(item_id, until="pipe_laying")
    world.run(world.supervisor, c.RaiseDefect(item_id=item_id, defect_id="d-1", severity="critical",
                                              hold_point="excavation", description="沟槽塌方", photos=[photo("b")]))
    template = world.app.get_item(item_id).parsed_template
    record = fold(template, world.app.events.get(item_id), SITE)
    [defect] = record.defects
    assert (defect.severity_zh, defect.status_zh, defect.before, defect.after) == ("严重", "待整改", [photo("b")], [])
    assert not next(hp for hp in record.hold_points if hp.code == "excavation").passed  # under rectification
    world.run(world.contractor, c.ReportRectification(item_id=item_id, defect_id="d-1", description="已加固",
                                                      photos=[photo("a")]))
    world.run(world.supervisor, c.CloseDefect(item_id=item_id, defect_id="d-1"))
    record = fold(template, world.app.events.get(item_id), SITE)
    [defect] = record.defects
    assert (defect.status_zh, defect.after) == ("已整改完毕", [photo("a")]) and defect.closed is not None
    assert next(hp for hp in record.hold_points if hp.code == "excavation").passed
    captions = record.photos()
    assert captions[photo("b")].startswith("整改前：沟槽塌方") and captions[photo("a")].startswith("整改后：沟槽塌方")
    assert captions[photo("excavation-0")].startswith("沟槽开挖（")


def test_stop_work_orders_and_their_lifting_are_dated(world: World) -> None:
    item_id = world.new_item()
    world.run(world.station, c.OrderStopWork(item_id=item_id, reason="夜间施工扰民"))
    template = world.app.get_item(item_id).parsed_template
    [order] = fold(template, world.app.events.get(item_id), SITE).stop_work
    assert order.reason == "夜间施工扰民" and order.lifted is None
    world.run(world.station, c.LiftStopWork(item_id=item_id))
    [order] = fold(template, world.app.events.get(item_id), SITE).stop_work
    assert order.lifted is not None and "年" in order.ordered


def test_units_a_neighbour_says_in_words() -> None:
    assert units_in_words("开挖深度：1.2 m") == "开挖深度：1.2 米"
    assert units_in_words("面积 30 m²，要求不超过 40 m²，合格") == "面积 30 平方米，要求不超过 40 平方米，合格"
    assert units_in_words("试验压力 1.0 MPa") == "试验压力 1.0 MPa"
    assert units_in_words("渗水量 0.5 m³/(24h·km)") == "渗水量 0.5 m³/(24h·km)"


def test_a_residents_reason_is_shown_without_the_member_who_gave_it() -> None:
    assert resident_words("居民验收意见（7f3e9a）：路面没有恢复") == "居民意见：路面没有恢复"
    assert resident_words("沟槽东侧未设围挡") == "沟槽东侧未设围挡"


def test_the_rule_and_the_content_code_read_as_a_neighbour_says_them() -> None:
    assert fraction_zh("2/3") == "三分之二" and fraction_zh("4/5") == "80%" and fraction_zh("0.75") == "四分之三"
    assert fraction_zh("7/8") == "87.5%"
    assert rule_zh({"min_signed": "2/3", "min_accept": "4/5"}) == (
        "小组成员中至少三分之二的人签字，并且签字的人中至少80%同意，验收才算通过。")
    assert short_code("3f2a91c0" + "0" * 56) == "3F2A 91C0"
