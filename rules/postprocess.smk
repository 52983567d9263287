# Post-process: the raw masks or a post-processing of them, whichever won on validation, as final/.


rule finalize_masks:
    input:
        val=f"{EXP}/pred/val",
        pred=f"{EXP}/pred/test",
        crf=crf_masks,
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        tuning=crf_tuning,
        code=modules("postprocess.finalize"),
    output:
        directory(f"{EXP}/final"),
    params:
        crf=setting("crf"),
        postprocess=applicable("postprocess", config["postprocess"]),
    threads: 2
    log:
        f"{EXP}/logs/finalize_masks.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/finalize_masks.py"
