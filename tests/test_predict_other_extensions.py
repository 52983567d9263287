"""A folder of new images holding images of an extension the data's image_extensions do not
list (WebP, JPEG 2000, PPM beside PNGs): they are not predicted, and a warning names them."""

from PIL import Image

from unet.infer.predict_folder import list_images


def test_images_of_other_extensions_are_named(tmp_path, caplog):
    for name in ("a.png", "b.webp", "c.webp", "d.ppm"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "._a.png").write_bytes(b"")  # macOS metadata: not an image either
    with caplog.at_level("WARNING"):
        assert list_images(tmp_path) == [tmp_path / "a.png"]
    text = caplog.text
    assert "b.webp" in text and "c.webp" in text and "d.ppm" in text
    assert "image_extensions" in text and "notes.txt" not in text and "._a" not in text


def test_no_word_when_every_image_is_listed(tmp_path, caplog):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level("WARNING"):
        assert list_images(tmp_path) == [tmp_path / "a.png"]
    assert caplog.text == ""


def test_unet_predict_names_its_own_fix(tmp_path, caplog):
    """`unet predict` has no image_extensions to add to: it says to name the files, with a
    pattern, where it told a user of the command alone to edit a config key."""
    import pytest

    from unet.infer.named import named_images

    for name in ("a.png", "b.webp"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    with caplog.at_level("WARNING"):
        assert named_images([str(tmp_path)], None) == [tmp_path / "a.png"]
    assert "image_extensions" not in caplog.text and f"'{tmp_path}/*.webp'" in caplog.text
    (tmp_path / "a.png").unlink()
    with pytest.raises(FileNotFoundError) as err:
        named_images([str(tmp_path)], None)
    assert "image_extensions" not in str(err.value) and f"'{tmp_path}/*.webp'" in str(err.value)


def test_a_folder_of_no_image_is_not_told_to_read_its_files_as_images(tmp_path):
    # A folder holding only notes.txt was refused with "name others, e.g. 'new/*.txt'" (and,
    # for the rule, "add the extension to image_extensions"): the fix read a text file as an
    # image, which then failed as "cannot identify image file".
    import pytest

    from unet.infer.named import named_images

    (tmp_path / "notes.txt").write_text("not an image")
    for call in (lambda: named_images([str(tmp_path)], None), lambda: list_images(tmp_path)):
        with pytest.raises(FileNotFoundError) as err:
            call()
        said = str(err.value)
        assert ".txt: 1" in said and "*.txt" not in said and "image_extensions" not in said, said
        assert "no image PIL reads" in said, said
