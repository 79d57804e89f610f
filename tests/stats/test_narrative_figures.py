"""The work summary through the real figures: a dataset shaped like seed 002 (2,500 needs collected,
2,300 fulfilled, about 4,000 activities, about 76,000 people served) built with real rows, rolled up
by `stats rebuild`, read by `queries.summary`, written out by the page and the .docx."""

import io
import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import docx
import pytest
from django.urls import include, path, reverse

from tests.stats import builders as b
from wenming import urls as root
from wenming.activities.models import Activity
from wenming.needs.models import Need
from wenming.publicity.models import MediaReport
from wenming.stats import narrative, queries, rebuild
from wenming.stats.rollups import LOCAL

urlpatterns = [path("stats/summary/", include("wenming.stats.narrative_urls")),
               *[p for p in root.urlpatterns if getattr(p, "namespace", None) != "stats_summary"]]
handler404, handler403, handler500 = root.handler404, root.handler403, root.handler500
pytestmark = pytest.mark.urls(__name__)

YEAR = date(2022, 1, 1), date(2022, 12, 31)
ACTIVITIES = 4012
SERVED_BY_ACTIVITIES = 74112  # + 2,300 needs served one person each = 76,412 people served
NEEDS, FULFILLED = 2500, 2300
SEED_002 = ["收集群众需求2500条", "完成群众心愿2300条", "完成率达90%以上", "4000余场次", "7.6万余人"]


def moment(day_of_year: int, hour: int) -> datetime:
    return datetime.combine(date(2022, 1, 1) + timedelta(days=day_of_year % 360), time(hour), tzinfo=LOCAL)


@pytest.fixture
def seed_002(world):
    w = world
    stations = [w.S11, w.S12, w.S21]
    each, extra = divmod(SERVED_BY_ACTIVITIES, ACTIVITIES)
    activities = []
    for i in range(ACTIVITIES):
        ends = moment(i, 11)
        activities.append(Activity(
            title=f"志愿服务活动{i}", node=stations[i % 3], starts_at=ends - timedelta(hours=2), ends_at=ends,
            capacity=20, status=Activity.Status.SETTLED if i % 2 else Activity.Status.PUBLISHED,
            platform=w.platform if i % 4 == 0 else None, beneficiaries=each + (1 if i < extra else 0)))
    Activity.objects.bulk_create(activities, batch_size=500)
    theme = b.theme("理论宣讲")
    Through = Activity.themes.through
    Through.objects.bulk_create([Through(activity_id=a.pk, theme_id=theme.pk)
                                 for a in Activity.objects.order_by("pk")[:1200]], batch_size=500)

    category = b.category()
    needs = []
    for i in range(NEEDS):
        raised = moment(i, 9)
        done = i < FULFILLED
        needs.append(Need(
            code=f"SD{i:08d}", category=category, station=stations[i % 3], node=stations[i % 3],
            description="需要帮助", contact_name="居民", created_at=raised,
            state=Need.State.CLOSED if done else Need.State.APPROVED, approved_at=raised,
            dispatched_at=raised + timedelta(hours=1) if done else None,
            accepted_at=raised + timedelta(hours=2) if done else None,
            completed_at=raised + timedelta(hours=30) if done else None))
    Need.objects.bulk_create(needs, batch_size=500)

    levels = {"district": 123, "city": 51, "province": 14, "central": 15}
    MediaReport.objects.bulk_create([
        MediaReport(title=f"报道{level}{i}", outlet="遵义日报", level=level, published_on=date(2022, 6, 1), node=w.C)
        for level, n in levels.items() for i in range(n)])
    rebuild.rebuild()
    return w


def test_seed_002_through_the_real_figures(seed_002):
    w = seed_002
    figures = queries.summary(w.C, *YEAR)
    assert figures["activities"] == ACTIVITIES
    assert figures["people_served"] == 76412
    assert figures["needs_collected"] == NEEDS and figures["needs_fulfilled"] == FULFILLED
    assert figures["needs_completion_rate"] == 0.92
    assert figures["participations"] == 0 and figures["needs_average_rating"] is None

    paragraphs = narrative.work_summary(figures, today=date(2026, 5, 20))
    text = "\n".join(paragraphs)
    for phrase in SEED_002:
        assert phrase in text
    assert paragraphs[0] == ("2022年，双清区新时代文明实践中心围绕理论宣讲等工作，开展新时代文明实践活动4000余场次，"
                             "受益群众7.6万余人。")
    assert "传思想习理论平台开展活动1000余场次、受益群众1.8万余人" in text
    assert "区级媒体120余篇，市级媒体51篇，省级媒体14篇，中央媒体15篇" in text
    # Figures that are zero here are left out, not written as 0: no hours, no volunteers, no ratings.
    for absent in ["参与志愿者", "服务时长", "名志愿者", "评价"]:
        assert absent not in text
    assert not re.search(r"(?<![\d.])0(?:场|人|条|篇|支|小时)", text)

    # A station's own summary: its third of the figures, in the same wording.
    s21 = narrative.work_summary(queries.summary(w.S21, *YEAR), today=date(2026, 5, 20))
    assert "收集群众需求830余条" in "\n".join(s21)


def test_seed_002_on_the_page_and_in_the_docx(seed_002):
    w = seed_002
    client = w.client("district_admin")
    query = urlencode({"node": w.C.pk, "kind": "custom", "start": "2022-01-01", "end": "2022-12-31"})
    page = client.get(f"{reverse('stats_summary:page')}?{query}")
    assert page.status_code == 200
    body = page.content.decode()
    for phrase in SEED_002:
        assert phrase in body
    assert "<td class=\"num\">76412</td>" in body and "<td class=\"num\">4012</td>" in body

    response = client.get(f"{reverse('stats_summary:docx')}?{query}")
    assert response.status_code == 200
    doc = docx.Document(io.BytesIO(response.content))
    assert doc.paragraphs[0].text == "双清区新时代文明实践中心2022年工作总结"
    text = "\n".join(p.text for p in doc.paragraphs)
    for phrase in SEED_002:
        assert phrase in text
    table = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert table["收集群众需求（条）"] == "2500" and table["完成群众心愿（条）"] == "2300"
    assert table["需求完成率"] == "92%" and table["开展活动（场次）"] == "4012"
