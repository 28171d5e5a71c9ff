"""Which tokens a service's copy of the directory refuses: disabled accounts, and sign-ins older than the person's
last change of unit, roles, password or standing; a token newer than the copy stands."""
from __future__ import annotations

import pytest

from shared.directory import Account, refuse_stale_token
from shared.errors import Unauthorized


def account(epoch: int, active: bool = True) -> Account:
    return Account("zhao", epoch, active, "巴州区教育局", ("unit_handler",), "赵伟")


def test_a_token_of_the_current_epoch_stands_and_nobody_the_directory_knows_stands_on_its_signature():
    refuse_stale_token(account(3), "zhao", 3)
    refuse_stale_token(None, "root", None)  # minted with the secret (`duban token`): no directory entry


@pytest.mark.parametrize("epoch", [None, 1, 2])
def test_a_sign_in_from_before_the_last_change_is_refused(epoch):
    with pytest.raises(Unauthorized) as refused:
        refuse_stale_token(account(3), "zhao", epoch)
    assert "重新登录" in refused.value.message_zh


@pytest.mark.parametrize("epoch", [None, 3])
def test_a_disabled_account_is_refused(epoch):
    with pytest.raises(Unauthorized) as refused:
        refuse_stale_token(account(3, active=False), "zhao", epoch)
    assert "停用" in refused.value.message_zh


def test_a_sign_in_after_an_enabling_the_copy_has_not_learnt_yet_stands():
    # disabled at epoch 3, enabled at 4 (the copy still says disabled), signed in at 4
    refuse_stale_token(account(3, active=False), "zhao", 4)
