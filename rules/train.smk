# Train: one UNet per experiment, on the GPU when there is one.


rule train_unet:
    input:
        cache=rules.preprocess.output.cache,
        meta=rules.preprocess.output.meta,
        code=modules("train"),
    output:
        model=f"{EXP}/model.pt",
        history=f"{EXP}/history.csv",
    params:
        model=setting("model"),
        train=setting("train"),
        # Not an output: a killed job's last checkpoint must survive to be resumed.
        checkpoints=f"{EXP}/checkpoints",
    threads: 4
    resources:
        gpu=1,
    log:
        f"{EXP}/logs/train_unet.log",
    benchmark:
        f"{EXP}/benchmarks/train_unet.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/train_unet.py"
