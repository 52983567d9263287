# Data: fetch or generate the raw pairs, then split them.


rule download_dataset:
    input:
        modules("dataset.download", *source_modules(), *layout_code()),
        data=local_data,
    output:
        f"{RESOURCES}/manifest.json",
    params:
        source=config["dataset"]["source"],
        settings=source_settings(),
        data=data_fingerprint,
    threads: 2
    log:
        f"{DATA}/logs/download_dataset.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/download_dataset.py"


rule split_dataset:
    input:
        rules.download_dataset.output,
        modules("dataset.split"),
        id_lists(config["split"]),
        **metadata_input(),  # split.metadata's table, if set
    output:
        f"{DATA}/split.json",
    params:
        split=applicable("split", config["split"]),
    log:
        f"{DATA}/logs/split_dataset.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/split_dataset.py"
