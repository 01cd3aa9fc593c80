"""POST /api/uploads (multipart, field ``file``): a CSV or NPZ dataset for ``data.dataset = "upload"``."""

from django.conf import settings
from django.http import JsonResponse

from webapp.runs.api import api
from webapp.runs.services import ApiError, limits, owner_key
from webapp.uploads.models import Upload


@api("POST")
def upload(request):
    from training.data.uploads import UploadError, parse, save

    f = request.FILES.get("file")
    if f is None:
        raise ApiError(400, [{"path": "file", "message": "send the dataset as multipart form field 'file'"}])
    lim = limits()
    if f.size > lim.max_upload_bytes:
        raise ApiError(413, [{"path": "file", "message": f"the file has {f.size:,} bytes; "
                                                         f"at most {lim.max_upload_bytes:,} are allowed"}])
    try:
        x, y, meta = parse(f.name, f.read(), lim)
    except UploadError as exc:
        raise ApiError(400, [{"path": "file", "message": str(exc)}]) from None
    row = Upload.objects.create(owner_session=owner_key(request), filename=f.name[:255], meta=meta)
    settings.UPLOAD_ROOT.mkdir(parents=True, exist_ok=True)
    save(settings.UPLOAD_ROOT, row.public_id, x, y, meta)
    return JsonResponse({"id": row.public_id, "filename": row.filename, **meta}, status=201)
