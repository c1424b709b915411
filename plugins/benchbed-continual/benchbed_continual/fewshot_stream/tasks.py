"""The continual few-shot tasks: two clip-art protocols and a digits one for fast tests.

Protocols are from Antoniou et al.'s grid (N = 5, K = 1, Q = 5 target items per class and
set; (NSS, CCI) = (3, 1): new classes in every set, and (4, 2): each class group shown
twice). The instance test follows Kowadlo et al.'s NSS = 10 sets of 2 pictures (20 pictures
of one category). The clip-art protocols use 15 and 10 of the 15 novel folders per stream.
"""

from __future__ import annotations

from benchbed_continual.fewshot_stream import data
from benchbed_continual.fewshot_stream.sampler import StreamProtocol
from benchbed_continual.fewshot_stream.task import ContinualFewShotTask, InstanceTest

CLIPART_STREAMS = 600
DIGITS_STREAMS = 50


def fewshot_stream_tasks() -> list[ContinualFewShotTask]:
    tasks = []
    for nss, cci in ((3, 1), (4, 2)):
        tasks.append(
            ContinualFewShotTask(
                f"continual/clipart-cfsl/nss{nss}-cci{cci}-5way-1shot",
                "continual few-shot learning on Open Clip Art (15 novel folders, 32x32 RGB), "
                "features of a CNN trained on the 48 base folders",
                data.clipart,
                StreamProtocol(nss, 5, 1, cci, 5),
                InstanceTest(10, 2, occlusion=16, noise=0.1),
                CLIPART_STREAMS,
                CLIPART_STREAMS,
            )
        )
    tasks.append(
        ContinualFewShotTask(
            "continual/digits-cfsl/nss3-cci1-3way-5shot",
            "continual few-shot learning on sklearn digits (all 10 classes, raw 8x8 pixels); "
            "a protocol check for fast tests",
            data.digits,
            StreamProtocol(3, 3, 5, 1, 5),
            InstanceTest(10, 2, occlusion=4, noise=0.3),
            DIGITS_STREAMS,
            DIGITS_STREAMS,
        )
    )
    return tasks
