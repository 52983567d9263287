"""Tiny data sets: an empty part's refusal says which value fills it, or that none can."""

import pytest

from unet.dataset.split import SplitError, make_split

IDS = [f"img_{i:03d}" for i in range(40)]


@pytest.mark.parametrize("n", [1, 2])
def test_too_few_images_for_three_parts_do_not_blame_the_fractions(n):
    # 1 or 2 images were refused with "add images or change the fractions": no fraction gives
    # train, val and test an image each.
    with pytest.raises(SplitError) as err:
        make_split(IDS[:n], seed=0, val_fraction=0.2, test_fraction=0.2)
    text = str(err.value)
    assert f"{n} images" in text and "3 images at least" in text
    assert "change the fractions" not in text


@pytest.mark.parametrize("n, val, test, key, need", [
    (3, 0.15, 0.4, "split.val_fraction=0.15", 0.17),    # the default val share of 3
    (10, 0.05, 0.2, "split.val_fraction=0.05", 0.06),   # 0.5 image rounds (to even) to none
    (5, 0.3, 0.05, "split.test_fraction=0.05", 0.11),
])
def test_a_part_rounded_to_none_names_the_fraction_that_fills_it(n, val, test, key, need):
    with pytest.raises(SplitError) as err:
        make_split(IDS[:n], seed=0, val_fraction=val, test_fraction=test)
    text = str(err.value)
    assert key in text and f"raise it to {need}" in text
    name = key.split(".")[1].split("_")[0]
    fixed = {"val_fraction": val, "test_fraction": test, f"{name}_fraction": need}
    split = make_split(IDS[:n], seed=0, **fixed)  # the value named does fill it
    assert all(split[p] for p in ("train", "val", "test"))


def test_train_left_empty_names_the_fractions_to_lower():
    with pytest.raises(SplitError, match=r"train split is empty.*took every image.*lower"):
        make_split(IDS[:3], seed=0, val_fraction=0.5, test_fraction=0.5)
