"""Uploads are stored as we decoded them, not as they were sent: images written anew by Pillow
(upright, no EXIF or text, nothing after the image's end, valid checksums, the same pixels) and
audio tracks re-muxed without tags or trailing bytes. Each file is made in the test with Pillow
or PyAV and submitted through the real submit action."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageOps, ImageStat
from PIL.PngImagePlugin import PngInfo

from generations.models import Generation
from tests.factories import audio_bytes
from tests.generations.lifecycle_helpers import png, submit
from wan_pwa.accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("replicate_settings")]

SECRET = b"SECRET-PLACE"


def picture(size: tuple[int, int] = (160, 96)) -> Image.Image:
    """Gradients and a shape off the centre, so moved or changed pixels show."""
    width, height = size
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.new("L", size, 90),
        ),
    )
    ImageDraw.Draw(image).rectangle((width // 8, height // 6, width // 3, height // 2), "white")
    return image


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", SECRET.decode())
    return buffer.getvalue()


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def submitted_image(user: User, data: bytes, name: str) -> bytes:
    generation = submit(user, model_key="i2v-14B", image=upload(data, name))
    with generation.input_image.open("rb") as stored:
        return stored.read()


def pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    """The mean difference of two same-sized pictures, in levels of 255."""
    assert first.size == second.size
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def png_chunks(data: bytes) -> list[tuple[bytes, bool]]:
    """Each chunk's type and whether its CRC is right."""
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        chunks.append((kind, zlib.crc32(kind + body) == crc))
        position += 12 + length
    return chunks


def test_a_jpeg_carrying_a_zip_is_stored_without_it_and_with_the_same_pixels(user: User):
    photo = encoded(picture(), "JPEG", quality=90)
    polyglot = photo + a_zip()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))  # what was sent opens as an archive

    stored = submitted_image(user, polyglot, "holiday.jpg")

    assert not zipfile.is_zipfile(io.BytesIO(stored))
    assert SECRET not in stored
    assert stored.endswith(b"\xff\xd9")  # the JPEG's end is the file's end
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
    # Encoded again with the upload's own quantization tables: the pixels barely move.
    assert mean_difference(pixels(stored), pixels(photo)) < 1.0


def test_a_geotagged_sideways_photo_is_stored_upright_without_its_exif(user: User):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: show it rotated 90 degrees
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.0),
    }
    photo = encoded(picture((160, 96)), "JPEG", quality=92, exif=exif)
    with Image.open(io.BytesIO(photo)) as sent:
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the position was in the upload
        upright = ImageOps.exif_transpose(sent)
        expected = upright.convert("RGB")

    stored = submitted_image(user, photo, "IMG_0001.jpg")

    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (96, 160)  # upright
        assert not image.getexif()
        assert "exif" not in image.info
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    assert mean_difference(pixels(stored), expected) < 1.0


def test_a_png_with_a_wrong_idat_checksum_is_stored_valid_with_the_same_pixels(user: User):
    text = PngInfo()
    text.add_text("Comment", SECRET.decode())
    sent = bytearray(encoded(picture(), "PNG", pnginfo=text))
    idat = sent.index(b"IDAT")
    (length,) = struct.unpack(">I", sent[idat - 4 : idat])
    crc = idat + 4 + length
    sent[crc : crc + 4] = bytes(byte ^ 0xFF for byte in sent[crc : crc + 4])
    assert (b"IDAT", False) in png_chunks(bytes(sent))

    stored = submitted_image(user, bytes(sent) + b"trailing bytes", "drawing.png")

    chunks = png_chunks(stored)
    assert all(valid for _, valid in chunks)
    assert [kind for kind, _ in chunks if kind not in (b"IDAT",)] == [b"IHDR", b"IEND"]
    assert SECRET not in stored and not stored.endswith(b"trailing bytes")
    assert pixels(stored).tobytes() == pixels(bytes(sent)).tobytes()


def test_a_webp_keeps_its_pixels_exactly_and_loses_its_exif(user: User):
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = SECRET.decode()
    sent = encoded(picture(), "WEBP", lossless=True, exif=exif)
    assert SECRET in sent

    stored = submitted_image(user, sent, "sticker.webp")

    assert SECRET not in stored
    assert pixels(stored).tobytes() == pixels(sent).tobytes()


def test_an_image_already_clean_is_stored_as_it_came(user: User):
    sent = png().read()
    assert submitted_image(user, sent, "in.png") == sent


def tagged_track(fmt: str) -> bytes:
    """A real track with a title, a comment and a stream title, then a ZIP appended."""
    buffer = io.BytesIO()
    with (
        av.open(io.BytesIO(audio_bytes(4, fmt)), "r") as source,
        av.open(buffer, "w", format=fmt) as target,
    ):
        target.metadata.update(title="Voice memo", comment=SECRET.decode())
        stream = target.add_stream_from_template(source.streams.audio[0])
        stream.metadata["title"] = SECRET.decode()
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    return buffer.getvalue() + a_zip()


def samples(data: bytes) -> bytes:
    """The decoded samples of a mono track."""
    with av.open(io.BytesIO(data), "r") as container:
        return b"".join(
            bytes(frame.planes[0])[: frame.samples * frame.format.bytes]
            for frame in container.decode(audio=0)
        )


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_an_audio_track_is_stored_without_its_tags_or_what_followed_it(user: User, fmt: str):
    sent = tagged_track(fmt)
    assert SECRET in sent and b"Voice memo" in sent

    generation: Generation = submit(
        user, model_key="t2v-2.5", resolution="480p", audio=upload(sent, f"memo.{fmt}")
    )
    with generation.input_audio.open("rb") as file:
        stored = file.read()

    assert SECRET not in stored and b"Voice memo" not in stored
    assert not zipfile.is_zipfile(io.BytesIO(stored))
    assert b"PK\x03\x04" not in stored
    with av.open(io.BytesIO(stored)) as container:
        assert container.format.name == fmt
        assert not container.metadata and not container.streams.audio[0].metadata
    assert samples(stored) == samples(audio_bytes(4, fmt))
