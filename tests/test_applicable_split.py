"""The keys-that-do-not-apply rules are split by the stage that reads them: a rule added for
evaluate (evaluate.iou_threshold, one line among every section's rules in the module training
imported) retrained every model, since rules list their script's unet/ imports as code. (The
split kept every section's params byte for byte over the shipped configs in 11 modes, checked
against 1421ed1's module when it landed; a check pinned to that commit would fail at the next
deliberate rule change, as evaluate.ground_truth's was, so it is not kept.)"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.rule_modules import RULES
from unet.common import applicable as new
from unet.deps import module_files


def _closure(rule: str) -> set[str]:
    return {str(Path(p).resolve()) for p in module_files(RULES[rule][0], root=REPO)}


@pytest.mark.parametrize("section", ["evaluate", "crf", "postprocess", "preprocess", "masks",
                                     "split"])
def test_training_code_holds_no_other_sections_rules(section):
    # train_unet's code input: editing evaluate's rules (say) must not retrain a model
    holder = str(Path(inspect.getsourcefile(new.UNUSED[section])).resolve())
    assert holder not in _closure("train_unet"), holder


def test_no_rule_lists_the_gathered_rules():
    # the rules' params read them while planning; no script imports them, so none reruns
    gathered = str(Path(new.__file__).resolve())
    assert not [rule for rule in RULES if gathered in _closure(rule)]
