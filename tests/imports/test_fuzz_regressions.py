"""What the API fuzz (decision 0040) found in /api/v1/imports."""

from django.core.files.uploadedfile import SimpleUploadedFile

from laoke.imports.models import ImportJob
from tests.imports.fixtures import fixture_bytes


def test_an_upload_with_an_idempotency_key_answers_and_replays(api, django_capture_on_commit_callbacks):
    client = api("admin")

    def upload():
        f = SimpleUploadedFile("taobao.csv", fixture_bytes("taobao_orders_gbk.csv"), content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/v1/imports",
                {"kind": "taobao", "file": f},
                format="multipart",
                HTTP_IDEMPOTENCY_KEY="u-1",
            )

    first = upload()
    assert first.status_code == 201, first.content[:300]  # was 500 after creating the job
    again = upload()
    assert again.status_code == 201 and again.json()["job_id"] == first.json()["job_id"]
    assert ImportJob.objects.count() == 1
