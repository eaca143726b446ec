<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../plugin/gui/area.py" line="99"/>
        <source>the rectangle has no area; draw a larger one</source>
        <translation>das Rechteck hat keine Fläche; zeichnen Sie ein größeres</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="467"/>
        <source>Rectangle</source>
        <translation>Rechteck</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="105"/>
        <source>the polygon is empty; draw it again</source>
        <translation>das Polygon ist leer; zeichnen Sie es neu</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="106"/>
        <source>Polygon drawn on the map</source>
        <translation>Auf der Karte gezeichnetes Polygon</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="112"/>
        <source>choose a polygon layer</source>
        <translation>wählen Sie einen Polygonlayer</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="116"/>
        <source>no feature of {layer} is selected; select the polygons to export or untick “Selected features only”</source>
        <translation>in {layer} ist kein Objekt ausgewählt; wählen Sie die zu exportierenden Polygone aus oder deaktivieren Sie „Nur ausgewählte Objekte“</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="124"/>
        <source>{layer} has no polygon to use as the area</source>
        <translation>{layer} enthält kein Polygon, das als Gebiet dienen kann</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="128"/>
        <source>the features of {layer} enclose no area</source>
        <translation>die Objekte von {layer} umschließen keine Fläche</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="131"/>
        <source>{n} selected feature of {layer}</source>
        <translation>{n} ausgewähltes Objekt von {layer}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="131"/>
        <source>{n} selected features of {layer}</source>
        <translation>{n} ausgewählte Objekte von {layer}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="134"/>
        <source>{n} feature of {layer}</source>
        <translation>{n} Objekt von {layer}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="134"/>
        <source>{n} features of {layer}</source>
        <translation>{n} Objekte von {layer}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/area.py" line="165"/>
        <source>there is no area yet; draw one or take the map extent</source>
        <translation>es gibt noch kein Gebiet; zeichnen Sie eines oder verwenden Sie den Kartenausschnitt</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="87"/>
        <source>vector tile service</source>
        <translation>Vektorkacheldienst</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="87"/>
        <source>tiled map service</source>
        <translation>gekachelter Kartendienst</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="88"/>
        <source>tiled image service</source>
        <translation>gekachelter Bilddienst</translation>
    </message>
    <message>
        <location filename="../plugin/plugin.py" line="59"/>
        <source>ArcGIS Offline Tiles</source>
        <translation>ArcGIS Offline Tiles</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="249"/>
        <source>Save the tile package as</source>
        <translation>Kachelpaket speichern unter</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="321"/>
        <source>Type the address of an ArcGIS tiled service first (…/MapServer, …/ImageServer or …/VectorTileServer), or choose a saved connection.</source>
        <translation>Geben Sie zuerst die Adresse eines gekachelten ArcGIS-Dienstes ein (…/MapServer, …/ImageServer oder …/VectorTileServer) oder wählen Sie eine gespeicherte Verbindung.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="335"/>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="353"/>
        <source>Connection failed.</source>
        <translation>Verbindung fehlgeschlagen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="367"/>
        <source>Cannot use the service</source>
        <translation>Der Dienst kann nicht verwendet werden</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="369"/>
        <source>Not connected.</source>
        <translation>Nicht verbunden.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="394"/>
        <source>This service does not allow tile export.</source>
        <translation>Dieser Dienst erlaubt keinen Kachelexport.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="394"/>
        <source>Esri publishes an export-enabled copy: use the button below.</source>
        <translation>Esri stellt eine Kopie mit Exporterlaubnis bereit: verwenden Sie die Schaltfläche unten.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="394"/>
        <source>Ask its administrator to enable export (exportTilesAllowed), or use another service.</source>
        <translation>Bitten Sie die Administration, den Export zu erlauben (exportTilesAllowed), oder verwenden Sie einen anderen Dienst.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="410"/>
        <source>Coordinate system: {crs}</source>
        <translation>Koordinatenbezugssystem: {crs}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="411"/>
        <source>Tiles: {w}×{h} px, {format}</source>
        <translation>Kacheln: {w}×{h} px, {format}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="413"/>
        <source>Levels {first}–{last} ({coarse} to {fine})</source>
        <translation>Stufen {first}–{last} ({coarse} bis {fine})</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="417"/>
        <source>Export allowed, up to {n} tiles per server job</source>
        <translation>Export erlaubt, bis zu {n} Kacheln je Serverauftrag</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="420"/>
        <source>not allowed by the service (exportTilesAllowed is false)</source>
        <translation>vom Dienst nicht erlaubt (exportTilesAllowed ist false)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="421"/>
        <source>Export: {reason}</source>
        <translation>Export: {reason}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="423"/>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="424"/>
        <source>ArcGIS Server version {version}</source>
        <translation>ArcGIS Server Version {version}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="461"/>
        <source>Map extent</source>
        <translation>Kartenausschnitt</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="463"/>
        <source>Extent of {layer}</source>
        <translation>Ausdehnung von {layer}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="465"/>
        <source>Rectangle drawn on the map</source>
        <translation>Auf der Karte gezeichnetes Rechteck</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="504"/>
        <source>Area</source>
        <translation>Gebiet</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="515"/>
        <source>No area yet: use the map extent, draw a rectangle or a polygon, or take polygon features.</source>
        <translation>Noch kein Gebiet: verwenden Sie den Kartenausschnitt, zeichnen Sie ein Rechteck oder Polygon oder übernehmen Sie Polygonobjekte.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="528"/>
        <source>{size} km²</source>
        <translation>{size} km²</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="530"/>
        <source>{n} part</source>
        <translation>{n} Teil</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="530"/>
        <source>{n} parts</source>
        <translation>{n} Teile</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="675"/>
        <source>Connect to a service to see its levels.</source>
        <translation>Verbinden Sie sich mit einem Dienst, um seine Stufen zu sehen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="678"/>
        <source>Tick the levels to export.</source>
        <translation>Haken Sie die zu exportierenden Stufen an.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="680"/>
        <source>{n} level ticked; choose an area to count the tiles.</source>
        <translation>{n} Stufe angehakt; wählen Sie ein Gebiet, um die Kacheln zu zählen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="680"/>
        <source>{n} levels ticked; choose an area to count the tiles.</source>
        <translation>{n} Stufen angehakt; wählen Sie ein Gebiet, um die Kacheln zu zählen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="685"/>
        <source>{tiles} tiles in {n} level</source>
        <translation>{tiles} Kacheln in {n} Stufe</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="685"/>
        <source>{tiles} tiles in {n} levels</source>
        <translation>{tiles} Kacheln in {n} Stufen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="689"/>
        <source>the server allows {limit} per server job</source>
        <translation>der Server erlaubt {limit} je Serverauftrag</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="691"/>
        <source>1 part</source>
        <translation>1 Teil</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="695"/>
        <source>{n} part</source>
        <translation>{n} Teil</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="695"/>
        <source>{n} parts</source>
        <translation>{n} Teile</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="696"/>
        <source>Over the limit: tick fewer levels, choose a smaller area or turn on splitting.</source>
        <translation>Über dem Limit: haken Sie weniger Stufen an, wählen Sie ein kleineres Gebiet oder schalten Sie das Aufteilen ein.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="732"/>
        <source>About {n} parts; the exact plan is made when the export starts.</source>
        <translation>Etwa {n} Teile; der genaue Plan entsteht beim Start des Exports.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="736"/>
        <source>About {n} parts: that is a lot; consider fewer levels or a smaller area.</source>
        <translation>Etwa {n} Teile: das ist viel; erwägen Sie weniger Stufen oder ein kleineres Gebiet.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="777"/>
        <source>{n} parts of at most {limit} tiles, {total} tiles in all:</source>
        <translation>{n} Teile mit höchstens {limit} Kacheln, insgesamt {total} Kacheln:</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="780"/>
        <source>level {levels}</source>
        <translation>Stufe {levels}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="121"/>
        <source>levels {levels}</source>
        <translation>Stufen {levels}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="782"/>
        <source>(part of the area)</source>
        <translation>(Teil des Gebiets)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="783"/>
        <source>part {n}: {what}, {tiles} tiles{piece}</source>
        <translation>Teil {n}: {what}, {tiles} Kacheln{piece}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="786"/>
        <source>… and {n} more</source>
        <translation>… und {n} weitere</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="801"/>
        <source>Connect, choose an area and tick levels to see their tiles.</source>
        <translation>Verbinden Sie sich, wählen Sie ein Gebiet und haken Sie Stufen an, um ihre Kacheln zu sehen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="807"/>
        <source>Too many tiles to preview ({n} at level {level}); the preview shows up to {max}.</source>
        <translation>Zu viele Kacheln für die Vorschau ({n} in Stufe {level}); die Vorschau zeigt bis zu {max}.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="812"/>
        <source>{n} tile of level {level} outlined on the map.</source>
        <translation>{n} Kachel der Stufe {level} auf der Karte umrandet.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="812"/>
        <source>{n} tiles of level {level} outlined on the map.</source>
        <translation>{n} Kacheln der Stufe {level} auf der Karte umrandet.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1051"/>
        <source>Asking the server…</source>
        <translation>Frage den Server…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="845"/>
        <source>No estimate.</source>
        <translation>Keine Schätzung.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="847"/>
        <source>Size estimate</source>
        <translation>Größenschätzung</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="852"/>
        <source>{size} for {tiles} tiles (server estimate)</source>
        <translation>{size} für {tiles} Kacheln (Schätzung des Servers)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="865"/>
        <source>.vtpk — vector tile package</source>
        <translation>.vtpk — Vektorkachelpaket</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="869"/>
        <source>.tpkx — Compact Cache V2 (recommended)</source>
        <translation>.tpkx — Compact Cache V2 (empfohlen)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="870"/>
        <source>.tpk — Compact Cache V1 (older readers)</source>
        <translation>.tpk — Compact Cache V1 (ältere Programme)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="887"/>
        <source>JPEG quality of the optimised tiles, at most the service&apos;s own quality ({q})</source>
        <translation>JPEG-Qualität der optimierten Kacheln, höchstens die eigene Qualität des Dienstes ({q})</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="959"/>
        <source>Tile package (*.{ext})</source>
        <translation>Kachelpaket (*.{ext})</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="972"/>
        <source>Connect to a service first.</source>
        <translation>Verbinden Sie sich zuerst mit einem Dienst.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="975"/>
        <source>This service does not allow tile export; use an export-enabled service.</source>
        <translation>Dieser Dienst erlaubt keinen Kachelexport; verwenden Sie einen Dienst mit Exporterlaubnis.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="978"/>
        <source>Choose the area first: the map extent, a rectangle, a polygon or polygon features.</source>
        <translation>Wählen Sie zuerst das Gebiet: den Kartenausschnitt, ein Rechteck, ein Polygon oder Polygonobjekte.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="984"/>
        <source>Tick at least one level.</source>
        <translation>Haken Sie mindestens eine Stufe an.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="999"/>
        <source>choose where to save the package</source>
        <translation>wählen Sie, wo das Paket gespeichert wird</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1022"/>
        <source>The export needs {n} tiles but the server allows {limit} per server job. Tick fewer levels, choose a smaller area or turn on splitting.</source>
        <translation>Der Export braucht {n} Kacheln, der Server erlaubt aber {limit} je Serverauftrag. Haken Sie weniger Stufen an, wählen Sie ein kleineres Gebiet oder schalten Sie das Aufteilen ein.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/export_destination.py" line="58"/>
        <source>The folder {folder} no longer exists. Choose another folder to resume the export in: it continues there.</source>
        <translation>Den Ordner {folder} gibt es nicht mehr. Wählen Sie einen anderen Ordner, in dem der Export fortgesetzt wird: er läuft dort weiter.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="205"/>
        <source>Export started: follow it in the Exports tab.</source>
        <translation>Export gestartet: verfolgen Sie ihn im Reiter Exporte.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1046"/>
        <source>Start the export in the background; follow it under Exports</source>
        <translation>Den Export im Hintergrund starten; verfolgen Sie ihn unter Exporte</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1046"/>
        <source>Connect to a service that allows export, choose an area and tick levels first</source>
        <translation>Verbinden Sie sich zuerst mit einem Dienst, der den Export erlaubt, wählen Sie ein Gebiet und haken Sie Stufen an</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="28"/>
        <source>Esri tile packages (*.vtpk *.tpkx *.tpk conf.xml)</source>
        <translation>Esri-Kachelpakete (*.vtpk *.tpkx *.tpk conf.xml)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="28"/>
        <source>Vector tile packages (*.vtpk)</source>
        <translation>Vektorkachelpakete (*.vtpk)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="28"/>
        <source>Tile packages (*.tpkx *.tpk)</source>
        <translation>Kachelpakete (*.tpkx *.tpk)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="28"/>
        <source>Esri cache folder configuration (conf.xml)</source>
        <translation>Konfiguration eines Esri-Cache-Ordners (conf.xml)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="28"/>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/drop_handler.py" line="58"/>
        <source>Add Esri tile package</source>
        <translation>Esri-Kachelpaket hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="393"/>
        <source>Queued</source>
        <translation>In Warteschlange</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="172"/>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="657"/>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_model.py" line="419"/>
        <source>Failed: {message}</source>
        <translation>Fehlgeschlagen: {message}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="150"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports_panel.py" line="93"/>
        <source>Continue the export where it stopped (server job and partial download are kept); the arrow offers another folder</source>
        <translation>Den Export dort fortsetzen, wo er angehalten wurde (Serverauftrag und bisheriger Download bleiben erhalten); der Pfeil bietet einen anderen Ordner an</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Retry</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports_panel.py" line="93"/>
        <source>Start the same export again, with the same area and settings, into the folder under Save to</source>
        <translation>Denselben Export noch einmal starten, mit demselben Gebiet und denselben Einstellungen, in den Ordner unter „Speichern unter“</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Add to map</source>
        <translation>Zur Karte hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Add the exported tiles to the map</source>
        <translation>Die exportierten Kacheln zur Karte hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Open folder</source>
        <translation>Ordner öffnen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Show the folder that holds the files</source>
        <translation>Den Ordner mit den Dateien anzeigen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="86"/>
        <source>Remove from the list (files of a finished export are kept; an unfinished one is discarded)</source>
        <translation>Aus der Liste entfernen (die Dateien eines fertigen Exports bleiben erhalten; ein unfertiger Export wird verworfen)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="123"/>
        <source>from an earlier session</source>
        <translation>aus einer früheren Sitzung</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="130"/>
        <source>{status} ({percent} %)</source>
        <translation>{status} ({percent} %)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="146"/>
        <source>Discard</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="147"/>
        <source>Give up this export: its server job is cancelled and its partial download deleted</source>
        <translation>Diesen Export aufgeben: sein Serverauftrag wird abgebrochen und der bisherige Download gelöscht</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="171"/>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="173"/>
        <source>Paused</source>
        <translation>Angehalten</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="174"/>
        <source>Finished</source>
        <translation>Fertig</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="175"/>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="197"/>
        <source>No exports yet. Exports you start appear here, with their progress.</source>
        <translation>Noch keine Exporte. Gestartete Exporte erscheinen hier mit ihrem Fortschritt.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="208"/>
        <source>Clear finished</source>
        <translation>Fertige entfernen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="209"/>
        <source>Remove finished and cancelled exports from the list (files are kept)</source>
        <translation>Fertige und abgebrochene Exporte aus der Liste entfernen (die Dateien bleiben erhalten)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="196"/>
        <source>Level</source>
        <translation>Stufe</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="196"/>
        <source>Scale</source>
        <translation>Maßstab</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="196"/>
        <source>Tiles</source>
        <translation>Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="196"/>
        <source>Total</source>
        <translation>Summe</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="197"/>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="197"/>
        <source>Resolution</source>
        <translation>Auflösung</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="199"/>
        <source>Tick the levels to export</source>
        <translation>Haken Sie die zu exportierenden Stufen an</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="201"/>
        <source>Exact number of tiles the area touches at this level (≈: extrapolated for very deep levels)</source>
        <translation>Genaue Zahl der Kacheln, die das Gebiet in dieser Stufe berührt (≈: hochgerechnet für sehr feine Stufen)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="203"/>
        <source>Running total of the ticked levels, coarse to fine</source>
        <translation>Laufende Summe der angehakten Stufen, von grob nach fein</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="204"/>
        <source>Estimated size from the server's estimate (bytes per tile × tiles)</source>
        <translation>Geschätzte Größe aus der Schätzung des Servers (Bytes je Kachel × Kacheln)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="205"/>
        <source>Size of one pixel in the units of the service&apos;s coordinate system</source>
        <translation>Größe eines Pixels in den Einheiten des Koordinatenbezugssystems des Dienstes</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="295"/>
        <source>Level {level}, scale {scale}, {resolution} a pixel</source>
        <translation>Stufe {level}, Maßstab {scale}, {resolution} je Pixel</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="291"/>
        <source>{n} tiles for the area</source>
        <translation>{n} Kacheln für das Gebiet</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="294"/>
        <source>This level alone needs more tiles than the server allows per server job ({limit}); it will be exported in several parts.</source>
        <translation>Diese Stufe allein braucht mehr Kacheln, als der Server je Serverauftrag erlaubt ({limit}); sie wird in mehreren Teilen exportiert.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="298"/>
        <source>This level alone needs more tiles than the server allows per server job ({limit}). Choose a smaller area or turn on splitting.</source>
        <translation>Diese Stufe allein braucht mehr Kacheln, als der Server je Serverauftrag erlaubt ({limit}). Wählen Sie ein kleineres Gebiet oder schalten Sie das Aufteilen ein.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="304"/>
        <source>With this level the export needs {n} tiles, more than the server allows per server job ({limit}); it will be split into parts.</source>
        <translation>Mit dieser Stufe braucht der Export {n} Kacheln, mehr als der Server je Serverauftrag erlaubt ({limit}); er wird in Teile aufgeteilt.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="308"/>
        <source>With this level the export needs {n} tiles, more than the server allows per server job ({limit}). Untick levels or turn on splitting.</source>
        <translation>Mit dieser Stufe braucht der Export {n} Kacheln, mehr als der Server je Serverauftrag erlaubt ({limit}). Entfernen Sie Haken oder schalten Sie das Aufteilen ein.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="85"/>
        <source>ArcGIS REST</source>
        <translation>ArcGIS REST</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="99"/>
        <source>Vector tiles</source>
        <translation>Vektorkacheln</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="150"/>
        <source>https://…/rest/services/…/MapServer</source>
        <translation>https://…/rest/services/…/MapServer</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="201"/>
        <source>Saved connections…</source>
        <translation>Gespeicherte Verbindungen…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="230"/>
        <source>The connection “{name}” points at a server, not at one service: complete the address with the service, e.g. …/rest/services/World_Topo_Map/MapServer, then connect.</source>
        <translation>Die Verbindung „{name}“ zeigt auf einen Server, nicht auf einen Dienst: ergänzen Sie die Adresse um den Dienst, z. B. …/rest/services/World_Topo_Map/MapServer, und verbinden Sie sich dann.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="248"/>
        <source>Use the service of the current layer: {url}</source>
        <translation>Den Dienst des aktuellen Layers verwenden: {url}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="248"/>
        <source>Select an ArcGIS map, image or vector tile service layer in the Layers panel to use its service</source>
        <translation>Wählen Sie im Layerbedienfeld einen Layer eines ArcGIS-Karten-, Bild- oder Vektorkacheldienstes, um seinen Dienst zu verwenden</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="261"/>
        <source>The current layer is not an ArcGIS tiled service layer.</source>
        <translation>Der aktuelle Layer ist kein Layer eines gekachelten ArcGIS-Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/plugin.py" line="61"/>
        <source>Export offline tiles from an ArcGIS service</source>
        <translation>Offline-Kacheln aus einem ArcGIS-Dienst exportieren</translation>
    </message>
    <message>
        <location filename="../plugin/plugin.py" line="68"/>
        <source>Add Esri tile package…</source>
        <translation>Esri-Kachelpaket hinzufügen…</translation>
    </message>
    <message>
        <location filename="../plugin/plugin.py" line="70"/>
        <source>Open an Esri tile package (.vtpk, .tpkx, .tpk) or cache folder</source>
        <translation>Ein Esri-Kachelpaket (.vtpk, .tpkx, .tpk) oder einen Cache-Ordner öffnen</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="365"/>
        <source>Reading {name}</source>
        <translation>Lese {name}</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="377"/>
        <source>Converting {name}</source>
        <translation>Konvertiere {name}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="47"/>
        <source>Opening {name}</source>
        <translation>Öffne {name}</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="466"/>
        <source>Converting {name}: {done} of {total} tiles</source>
        <translation>Konvertiere {name}: {done} von {total} Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="523"/>
        <source>Esri tile package {file} ({kind}), levels {levels}, {tiles} tiles.</source>
        <translation>Esri-Kachelpaket {file} ({kind}), Stufen {levels}, {tiles} Kacheln.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="526"/>
        <source>Opened from its conversion {file}.</source>
        <translation>Geöffnet aus seiner Konvertierung {file}.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/estimate_task.py" line="47"/>
        <source>Estimating the export size of {name}</source>
        <translation>Schätze die Exportgröße von {name}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="380"/>
        <source>Export {name}</source>
        <translation>Export {name}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="476"/>
        <source>Reading the service</source>
        <translation>Lese den Dienst</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="500"/>
        <source>Converting for QGIS</source>
        <translation>Konvertiere für QGIS</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="502"/>
        <source>Loading</source>
        <translation>Lade</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="557"/>
        <source>Submitting the export</source>
        <translation>Übermittle den Export</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="560"/>
        <source>Server building the package: {percent} %</source>
        <translation>Server erstellt das Paket: {percent} %</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="560"/>
        <source>Submitted; the server is building the package</source>
        <translation>Übermittelt; der Server erstellt das Paket</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="564"/>
        <source>Downloading {done} of {total}</source>
        <translation>Lade {done} von {total} herunter</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="567"/>
        <source>Downloading {done}</source>
        <translation>Lade {done} herunter</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="569"/>
        <source>Package downloaded</source>
        <translation>Paket heruntergeladen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="573"/>
        <source>Part {part} of {parts}: {text}</source>
        <translation>Teil {part} von {parts}: {text}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="586"/>
        <source>Merging {count} packages into {name}</source>
        <translation>Führe {count} Pakete zu {name} zusammen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="590"/>
        <source>{text}: {done} of {total} tiles</source>
        <translation>{text}: {done} von {total} Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="612"/>
        <source>{title}: {status}</source>
        <translation>{title}: {status}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="803"/>
        <source>Could not add {file} to the map</source>
        <translation>{file} konnte nicht zur Karte hinzugefügt werden</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="86"/>
        <source>{message} Details in the log.</source>
        <translation>{message} Einzelheiten stehen im Protokoll.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="630"/>
        <source>{file} ({size}) saved in {folder}.</source>
        <translation>{file} ({size}) in {folder} gespeichert.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="632"/>
        <source>{count} packages merged.</source>
        <translation>{count} Pakete zusammengeführt.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="634"/>
        <source>Added to the map as {names}.</source>
        <translation>Zur Karte hinzugefügt als {names}.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="637"/>
        <source>Saved {file} ({size})</source>
        <translation>{file} ({size}) gespeichert</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="638"/>
        <source>Export finished</source>
        <translation>Export abgeschlossen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="647"/>
        <source>Paused; it can resume later</source>
        <translation>Angehalten; er kann später fortgesetzt werden</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="658"/>
        <source>Export cancelled</source>
        <translation>Export abgebrochen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="658"/>
        <source>{name}: the export was cancelled; the server job was stopped and no package was kept.</source>
        <translation>{name}: der Export wurde abgebrochen; der Serverauftrag wurde gestoppt und es wurde kein Paket behalten.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="664"/>
        <source>Resume it from the exports list, or retry it.</source>
        <translation>Setzen Sie ihn in der Exportliste fort oder wiederholen Sie ihn.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="664"/>
        <source>Retry it from the exports list; the area and settings are kept.</source>
        <translation>Wiederholen Sie ihn in der Exportliste; Gebiet und Einstellungen bleiben erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="666"/>
        <source>Export failed: {name}</source>
        <translation>Export fehlgeschlagen: {name}</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="666"/>
        <source>{message} {hint} Details in the log.</source>
        <translation>{message} {hint} Einzelheiten stehen im Protokoll.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="702"/>
        <source>Area of the interrupted export</source>
        <translation>Gebiet des unterbrochenen Exports</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="743"/>
        <source>Interrupted; {size} of the download is kept</source>
        <translation>Unterbrochen; {size} des Downloads bleiben erhalten</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="745"/>
        <source>Interrupted; the server job is kept</source>
        <translation>Unterbrochen; der Serverauftrag bleibt erhalten</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="747"/>
        <source>Interrupted before it finished</source>
        <translation>Vor dem Abschluss unterbrochen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="756"/>
        <source>Looking for unfinished exports</source>
        <translation>Suche nach unfertigen Exporten</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="767"/>
        <source>Discarding an unfinished export</source>
        <translation>Verwerfe einen unfertigen Export</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="72"/>
        <source>opened natively</source>
        <translation>direkt geöffnet</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="72"/>
        <source>reusing its conversion {file}</source>
        <translation>vorhandene Konvertierung {file} wiederverwendet</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="72"/>
        <source>converted to {file}</source>
        <translation>in {file} konvertiert</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="75"/>
        <source>Tile package opened</source>
        <translation>Kachelpaket geöffnet</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="75"/>
        <source>{name}: {file} ({size}), {how}.</source>
        <translation>{name}: {file} ({size}), {how}.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="83"/>
        <source>Tile package</source>
        <translation>Kachelpaket</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="83"/>
        <source>Opening {file} was cancelled.</source>
        <translation>Das Öffnen von {file} wurde abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/open_package.py" line="86"/>
        <source>Could not open {file}</source>
        <translation>{file} konnte nicht geöffnet werden</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/service_task.py" line="43"/>
        <source>Reading the service {url}</source>
        <translation>Lese den Dienst {url}</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="741"/>
        <source>Planning the split into parts…</source>
        <translation>Plane die Aufteilung in Teile…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="766"/>
        <source>This server cannot export a polygon: its bounding box is exported instead.</source>
        <translation>Dieser Server kann kein Polygon exportieren: stattdessen wird sein umgebendes Rechteck exportiert.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/plan_task.py" line="37"/>
        <source>Planning the export</source>
        <translation>Plane den Export</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1064"/>
        <source>{n} export of an earlier session was interrupted; it can resume where it stopped.</source>
        <translation>{n} Export einer früheren Sitzung wurde unterbrochen; er kann dort fortgesetzt werden, wo er stehen blieb.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1064"/>
        <source>{n} exports of an earlier session were interrupted; they can resume where they stopped.</source>
        <translation>{n} Exporte einer früheren Sitzung wurden unterbrochen; sie können dort fortgesetzt werden, wo sie stehen blieben.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1068"/>
        <source>Show</source>
        <translation>Anzeigen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1069"/>
        <source>Open the dock at its exports: resume or discard each one</source>
        <translation>Das Dock bei seinen Exporten öffnen: jeden fortsetzen oder verwerfen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="1099"/>
        <source>No application could open the usage guide {path}; open it in a web browser or a text editor.</source>
        <translation>Keine Anwendung konnte die Bedienungsanleitung {path} öffnen; öffnen Sie sie in einem Webbrowser oder Texteditor.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/jobs_panel.py" line="164"/>
        <source>Cancel the export: its server job is cancelled and nothing is kept, except a download under way, which can resume</source>
        <translation>Export abbrechen: sein Serverauftrag wird abgebrochen und nichts bleibt erhalten, außer einem laufenden Download, der fortgesetzt werden kann</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="388"/>
        <source>a custom coordinate system</source>
        <translation>ein benutzerdefiniertes Koordinatenbezugssystem</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="392"/>
        <source>QGIS could not open it natively</source>
        <translation>QGIS konnte es nicht nativ öffnen</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="392"/>
        <source>this one is not a zipped .vtpk whose p12/root.json gives the pbf format and packet size</source>
        <translation>dieses ist keine gezippte .vtpk-Datei, deren p12/root.json das pbf-Format und die Paketgröße angibt</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/count_task.py" line="37"/>
        <source>Counting tiles</source>
        <translation>Kacheln werden gezählt</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="651"/>
        <source>Cancelled; the {size} downloaded are kept for a resume</source>
        <translation>Abgebrochen; die heruntergeladenen {size} bleiben für eine Fortsetzung erhalten</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="652"/>
        <source>{name}: the export was cancelled during the download; the {size} already downloaded are kept. Resume continues it from the exports list, Remove deletes it.</source>
        <translation>{name}: Der Export wurde während des Downloads abgebrochen; die bereits heruntergeladenen {size} bleiben erhalten. „Fortsetzen“ in der Exportliste setzt ihn fort, „Entfernen“ löscht ihn.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="108"/>
        <source>New export</source>
        <translation>Neuer Export</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="120"/>
        <source>Exports</source>
        <translation>Exporte</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="110"/>
        <source>Choose the service, the area and the levels, then export</source>
        <translation>Wählen Sie den Dienst, das Gebiet und die Stufen, dann exportieren Sie</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="111"/>
        <source>Every export: its progress, and Cancel, Resume, Retry, Add to map</source>
        <translation>Jeder Export: sein Fortschritt sowie Abbrechen, Fortsetzen, Wiederholen, Zur Karte hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="120"/>
        <source>Exports ({n})</source>
        <translation>Exporte ({n})</translation>
    </message>
    <message>
        <location filename="../plugin/gui/dock.py" line="121"/>
        <source>{running} running of {n} exports: their progress, and Cancel, Resume, Retry, Add to map</source>
        <translation>{running} von {n} Exporten laufen: ihr Fortschritt sowie Abbrechen, Fortsetzen, Wiederholen, Zur Karte hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/export_destination.py" line="64"/>
        <source>The export cannot continue in {folder} ({reason}). Choose another folder to resume it in: what it has downloaded moves there.</source>
        <translation>Der Export kann in {folder} nicht weiterlaufen ({reason}). Wählen Sie einen anderen Ordner, in dem er fortgesetzt wird: was er bereits heruntergeladen hat, wird dorthin verschoben.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/export_destination.py" line="80"/>
        <source>{name} already exists in {folder}. Choose another folder, or move that file away first.</source>
        <translation>{name} gibt es in {folder} bereits. Wählen Sie einen anderen Ordner oder verschieben Sie diese Datei zuerst.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports.py" line="230"/>
        <source>Saved as {new}: {old} exists or is being written</source>
        <translation>Gespeichert als {new}: {old} existiert bereits oder wird gerade geschrieben</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports_panel.py" line="121"/>
        <source>Resume in Another Folder…</source>
        <translation>In einem anderen Ordner fortsetzen…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports_panel.py" line="122"/>
        <source>Continue the export in another folder: what it has downloaded moves there, and the result lands there</source>
        <translation>Den Export in einem anderen Ordner fortsetzen: was er heruntergeladen hat, wird dorthin verschoben, und das Ergebnis landet dort</translation>
    </message>
    <message>
        <location filename="../plugin/gui/exports_panel.py" line="278"/>
        <source>Resume the Export in the Folder</source>
        <translation>Den Export in diesem Ordner fortsetzen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="207"/>
        <source>Map scale of the level (1:n); in a narrow dock, in the row&apos;s tooltip</source>
        <translation>Kartenmaßstab der Stufe (1:n); in einem schmalen Dock im Tooltip der Zeile</translation>
    </message>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="301"/>
        <source>{n} tiles with the ticked levels down to this one</source>
        <translation>{n} Kacheln mit den angehakten Stufen bis zu dieser</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/area_panel.py" line="71"/>
        <source>The map is empty, so it has no extent to use: add a layer or zoom to where you work, or draw a rectangle or a polygon.</source>
        <translation>Die Karte ist leer und hat daher keinen Ausschnitt, der sich verwenden ließe: fügen Sie einen Layer hinzu oder zoomen Sie dorthin, wo Sie arbeiten, oder zeichnen Sie ein Rechteck oder ein Polygon.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/estimate_panel.py" line="62"/>
        <source>Cancel estimate</source>
        <translation>Schätzung abbrechen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/estimate_panel.py" line="63"/>
        <source>Stop the server&apos;s size estimate</source>
        <translation>Die Größenschätzung des Servers stoppen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/estimate_panel.py" line="78"/>
        <source>Asking the server… {p}%</source>
        <translation>Frage den Server… {p}%</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/estimate_panel.py" line="90"/>
        <source>Estimate si&amp;ze</source>
        <translation>Größe schät&amp;zen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/estimate_panel.py" line="91"/>
        <source>Ask the server how large the export would be (map and image services only; runs in the background)</source>
        <translation>Den Server fragen, wie groß der Export würde (nur Karten- und Bilddienste; läuft im Hintergrund)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/export_panel.py" line="43"/>
        <source>The address no longer names the connected service {name}: press Connect, or put its address back.</source>
        <translation>Die Adresse nennt nicht mehr den verbundenen Dienst {name}: klicken Sie auf Verbinden oder stellen Sie seine Adresse wieder her.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/export_panel.py" line="134"/>
        <source>The address names another service than the connected one: press Connect</source>
        <translation>Die Adresse nennt einen anderen Dienst als den verbundenen: klicken Sie auf Verbinden</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/export_panel.py" line="143"/>
        <source>the service</source>
        <translation>dem Dienst</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/export_panel.py" line="145"/>
        <source>E&amp;xport {tiles} tiles of {name}</source>
        <translation>{tiles} Kacheln von {name} e&amp;xportieren</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/messages.py" line="43"/>
        <source>Close this message</source>
        <translation>Diese Meldung schließen</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/options_panel.py" line="122"/>
        <source>Tile cache (folder)</source>
        <translation>Kachel-Cache (Ordner)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/options_panel.py" line="124"/>
        <source>Save the tiles as an ArcGIS tile cache: a folder of bundles that QGIS, GDAL and ArcGIS open in place (map and image services)</source>
        <translation>Die Kacheln als ArcGIS-Kachel-Cache speichern: ein Ordner mit Bundles, den QGIS, GDAL und ArcGIS direkt öffnen (Karten- und Bilddienste)</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/options_panel.py" line="216"/>
        <source>Save the tile cache in the folder</source>
        <translation>Kachel-Cache im Ordner speichern</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/plan_view.py" line="108"/>
        <source>The parts are kept as separate packages (Merge into one file is off).</source>
        <translation>Die Teile bleiben getrennte Pakete („Zu einer Datei zusammenführen“ ist aus).</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/plan_view.py" line="113"/>
        <source>The parts are merged into one MBTiles file, {name}, not a .vtpk: QGIS opens it, ArcGIS Field Maps does not. Untick Merge into one file to keep .vtpk parts.</source>
        <translation>Die Teile werden zu einer MBTiles-Datei zusammengeführt, {name}, nicht zu einer .vtpk: QGIS öffnet sie, ArcGIS Field Maps nicht. Entfernen Sie den Haken bei „Zu einer Datei zusammenführen“, um die .vtpk-Teile zu behalten.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/plan_view.py" line="115"/>
        <source>The parts are merged into one GeoPackage, {name}, not a {ext}: QGIS opens it, ArcGIS Field Maps does not. Untick Merge into one file to keep {ext} parts.</source>
        <translation>Die Teile werden zu einem GeoPackage zusammengeführt, {name}, nicht zu einer {ext}: QGIS öffnet es, ArcGIS Field Maps nicht. Entfernen Sie den Haken bei „Zu einer Datei zusammenführen“, um die {ext}-Teile zu behalten.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/panels/service_panel.py" line="179"/>
        <source>The address no longer names the connected service {name}: press Connect to use it. The levels and counts below are still those of {name}; nothing is exported until the address and the connected service match.</source>
        <translation>Die Adresse nennt nicht mehr den verbundenen Dienst {name}: klicken Sie auf Verbinden, um sie zu verwenden. Die Stufen und Zahlen unten gehören noch zu {name}; exportiert wird erst, wenn Adresse und verbundener Dienst übereinstimmen.</translation>
    </message>
    <message>
        <location filename="../plugin/gui/resume_elsewhere.py" line="36"/>
        <source>Moving to {folder}…</source>
        <translation>Verschiebe nach {folder}…</translation>
    </message>
    <message>
        <location filename="../plugin/gui/resume_elsewhere.py" line="53"/>
        <source>copied to {folder}; the old folder keeps {names}, which could not be removed</source>
        <translation>nach {folder} kopiert; im alten Ordner bleiben {names}, die nicht entfernt werden konnten</translation>
    </message>
    <message>
        <location filename="../plugin/gui/service_picker.py" line="207"/>
        <source>No saved connections (add one in the Data Source Manager)</source>
        <translation>Keine gespeicherten Verbindungen (legen Sie eine in der Datenquellenverwaltung an)</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/export_task.py" line="399"/>
        <source>Merging {count} tile caches into {name}</source>
        <translation>Führe {count} Kachel-Caches zu {name} zusammen</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/relocate_task.py" line="19"/>
        <source>Moving an export to {folder}</source>
        <translation>Verschiebe einen Export nach {folder}</translation>
    </message>
</context>
<context>
    <name>ArcGISOfflineTilesDockBody</name>
    <message>
        <location filename="../ui/dock.ui" line="60"/>
        <source>Service</source>
        <translation>Dienst</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="66"/>
        <source>&amp;Address</source>
        <translation>&amp;Adresse</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="82"/>
        <source>Address of an ArcGIS tiled service (…/MapServer, …/ImageServer or …/VectorTileServer) or of an ArcGIS item page. Recent services are in the list.</source>
        <translation>Adresse eines gekachelten ArcGIS-Dienstes (…/MapServer, …/ImageServer oder …/VectorTileServer) oder einer ArcGIS-Elementseite. Zuletzt verwendete Dienste stehen in der Liste.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="98"/>
        <source>Use one of the ArcGIS connections saved in QGIS (ArcGIS REST servers and ArcGIS vector tile connections)</source>
        <translation>Eine der in QGIS gespeicherten ArcGIS-Verbindungen verwenden (ArcGIS-REST-Server und ArcGIS-Vektorkachelverbindungen)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="105"/>
        <source>From &amp;layer</source>
        <translation>Aus &amp;Layer</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="112"/>
        <source>Sign-&amp;in</source>
        <translation>Anmel&amp;dung</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="128"/>
        <source>Authentication configuration for a secured service (ArcGIS user name and password, token or API key). Only its id is remembered.</source>
        <translation>Authentifizierungskonfiguration für einen geschützten Dienst (ArcGIS-Benutzername und Passwort, Token oder API-Schlüssel). Gemerkt wird nur ihre ID.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="137"/>
        <source>Read the service&apos;s description: type, coordinate system, levels and export permission</source>
        <translation>Die Beschreibung des Dienstes lesen: Typ, Koordinatenbezugssystem, Stufen und Exporterlaubnis</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="140"/>
        <source>&amp;Connect</source>
        <translation>&amp;Verbinden</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="172"/>
        <source>Type or choose the address of an ArcGIS tiled service, then connect.</source>
        <translation>Geben Sie die Adresse eines gekachelten ArcGIS-Dienstes ein oder wählen Sie sie aus und verbinden Sie sich dann.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="188"/>
        <source>Esri publishes a copy of this basemap that allows export (an ArcGIS Online sign-in is needed)</source>
        <translation>Esri stellt eine Kopie dieser Grundkarte bereit, die den Export erlaubt (eine Anmeldung bei ArcGIS Online ist nötig)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="191"/>
        <source>Use export-enabled cop&amp;y</source>
        <translation>Kop&amp;ie mit Exporterlaubnis verwenden</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="201"/>
        <source>Area</source>
        <translation>Gebiet</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="209"/>
        <source>Area &amp;from</source>
        <translation>&amp;Gebiet aus</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="229"/>
        <source>Rectangle</source>
        <translation>Rechteck</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="234"/>
        <source>Polygon drawn on the map</source>
        <translation>Auf der Karte gezeichnetes Polygon</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="239"/>
        <source>Features of a polygon layer</source>
        <translation>Objekten eines Polygonlayers</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="271"/>
        <source>Type the extent, or use the button for the map canvas extent, a layer&apos;s extent or a rectangle drawn on the map</source>
        <translation>Geben Sie die Ausdehnung ein oder verwenden Sie die Schaltfläche für den Kartenausschnitt, die Ausdehnung eines Layers oder ein auf der Karte gezeichnetes Rechteck</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="278"/>
        <source>Use what the map canvas shows now</source>
        <translation>Verwenden, was die Kartenansicht gerade zeigt</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="281"/>
        <source>Use the &amp;map extent</source>
        <translation>&amp;Kartenausschnitt verwenden</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="304"/>
        <source>Click the corners on the map; double-click, right-click or press Enter to finish; Backspace removes the last corner; Esc cancels</source>
        <translation>Klicken Sie die Ecken auf der Karte; Doppelklick, Rechtsklick oder Eingabetaste beendet; Rücktaste entfernt die letzte Ecke; Esc bricht ab</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="307"/>
        <source>&amp;Polygon</source>
        <translation>&amp;Polygon</translation>
    </message>
    <message>
        <source>&amp;Rectangle</source>
        <translation>&amp;Rechteck</translation>
    </message>
    <message>
        <source>Draw</source>
        <translation>Zeichnen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="317"/>
        <source>Click the corners on the map; double-click or right-click to finish, Esc cancels.</source>
        <translation>Klicken Sie die Ecken auf der Karte; Doppel- oder Rechtsklick beendet, Esc bricht ab.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="349"/>
        <source>Polygon layer whose features make the area (all parts and holes are kept)</source>
        <translation>Polygonlayer, dessen Objekte das Gebiet bilden (alle Teile und Löcher bleiben erhalten)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="359"/>
        <source>&amp;Selected features only</source>
        <translation>N&amp;ur ausgewählte Objekte</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="369"/>
        <source>Take the union of the features as the area</source>
        <translation>Die Vereinigung der Objekte als Gebiet übernehmen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="372"/>
        <source>&amp;Use</source>
        <translation>Über&amp;nehmen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="383"/>
        <source>No area yet.</source>
        <translation>Noch kein Gebiet.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="395"/>
        <source>Outline on the map the tiles of the finest ticked level (up to 2,000 tiles)</source>
        <translation>Die Kacheln der feinsten angehakten Stufe auf der Karte umranden (bis zu 2.000 Kacheln)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="398"/>
        <source>Show the &amp;tiles</source>
        <translation>Kacheln &amp;zeigen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="418"/>
        <source>Remove the area from the map</source>
        <translation>Das Gebiet von der Karte entfernen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="421"/>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="443"/>
        <source>Levels</source>
        <translation>Stufen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="455"/>
        <source>Tick the levels to export (Space ticks the current row). The numbers are exact for the area.</source>
        <translation>Haken Sie die zu exportierenden Stufen an (Leertaste hakt die aktuelle Zeile an). Die Zahlen sind für das Gebiet genau.</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="485"/>
        <source>Fr&amp;om scale</source>
        <translation>V&amp;on Maßstab</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="495"/>
        <source>Coarsest scale to export (small scale, large number): the level at or beyond it is included</source>
        <translation>Gröbster zu exportierender Maßstab (kleiner Maßstab, große Zahl): die Stufe auf oder jenseits davon ist dabei</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="502"/>
        <source>To scal&amp;e</source>
        <translation>&amp;Bis Maßstab</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="512"/>
        <source>Finest scale to export (large scale, small number): the level at or beyond it is included</source>
        <translation>Feinster zu exportierender Maßstab (großer Maßstab, kleine Zahl): die Stufe auf oder jenseits davon ist dabei</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="523"/>
        <source>Ask the server how large the export would be (map and image services only; runs in the background)</source>
        <translation>Den Server fragen, wie groß der Export würde (nur Karten- und Bilddienste; läuft im Hintergrund)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="526"/>
        <source>Estimate si&amp;ze</source>
        <translation>Größe s&amp;chätzen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="554"/>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="560"/>
        <source>Pac&amp;kage</source>
        <translation>Paket&amp;format</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="576"/>
        <source>Package format: .tpkx (Compact Cache V2, the default), .tpk (older readers) or .vtpk (vector tiles)</source>
        <translation>Paketformat: .tpkx (Compact Cache V2, Standard), .tpk (ältere Programme) oder .vtpk (Vektorkacheln)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="583"/>
        <source>Optimise the JPEG tiles for size: the server recompresses them to make the package smaller</source>
        <translation>JPEG-Kacheln auf Größe optimieren: der Server komprimiert sie neu, damit das Paket kleiner wird</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="586"/>
        <source>Optimise &amp;JPEG tiles</source>
        <translation>&amp;JPEG-Kacheln optimieren</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="593"/>
        <source>&amp;Quality</source>
        <translation>&amp;Qualität</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="603"/>
        <source>JPEG quality of the optimised tiles; it cannot be higher than the service&apos;s own quality</source>
        <translation>JPEG-Qualität der optimierten Kacheln; sie kann nicht höher sein als die eigene Qualität des Dienstes</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="629"/>
        <source>Sa&amp;ve to</source>
        <translation>&amp;Speichern unter</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="645"/>
        <source>The package file to write (split exports get _part01of03 … names, or one merged file)</source>
        <translation>Die zu schreibende Paketdatei (aufgeteilte Exporte erhalten Namen mit _part01of03 … oder eine zusammengeführte Datei)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="652"/>
        <source>When the export needs more tiles than the server allows in one server job (its limit), export it in parts that each fit</source>
        <translation>Wenn der Export mehr Kacheln braucht, als der Server in einem Serverauftrag erlaubt (sein Limit), ihn in Teilen exportieren, die jeweils passen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="655"/>
        <source>Split i&amp;nto parts</source>
        <translation>In &amp;mehrere Teile aufteilen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="678"/>
        <source>Merge the packages of a split export into one file</source>
        <translation>Die Pakete eines aufgeteilten Exports zu einer Datei zusammenführen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="681"/>
        <source>Mer&amp;ge into one file</source>
        <translation>Zu &amp;einer Datei zusammenführen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="694"/>
        <source>Add to map &amp;when done</source>
        <translation>Am Ende zur Kar&amp;te hinzufügen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="771"/>
        <source>Start the export in the background; follow it under Exports</source>
        <translation>Den Export im Hintergrund starten; verfolgen Sie ihn unter Exporte</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="774"/>
        <source>E&amp;xport</source>
        <translation>E&amp;xportieren</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="794"/>
        <source>Open the plugin&apos;s usage guide</source>
        <translation>Die Anleitung des Plugins öffnen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="797"/>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="219"/>
        <source>How to give the export area: a rectangle (map extent, a layer&apos;s extent or drawn), a polygon drawn on the map, or the features of a polygon layer</source>
        <translation>Wie das Exportgebiet angegeben wird: ein Rechteck (Kartenausdehnung, Ausdehnung eines Layers oder gezeichnet), ein auf der Karte gezeichnetes Polygon oder die Objekte eines Polygonlayers</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="356"/>
        <source>Use only the selected features of the layer (untick to use all its features)</source>
        <translation>Nur die gewählten Objekte des Layers verwenden (abwählen, um alle Objekte zu verwenden)</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="691"/>
        <source>Open the exported package as a layer when the export has finished</source>
        <translation>Das exportierte Paket nach Abschluss des Exports als Layer öffnen</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="753"/>
        <source>Tiles of the ticked levels for the area, and how many parts they take</source>
        <translation>Kacheln der angehakten Stufen für das Gebiet und wie viele Teile sie erfordern</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="264"/>
        <source>Drag a rectangle on the map; Esc cancels</source>
        <translation>Ziehen Sie ein Rechteck auf der Karte auf; Esc bricht ab</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="558"/>
        <source>From resolution</source>
        <translation>Von Auflösung</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="568"/>
        <source>Coarsest ground resolution to export, in the units of the service&apos;s coordinate system per pixel: the level at or beyond it is included</source>
        <translation>Gröbste zu exportierende Bodenauflösung, in Einheiten des Koordinatenbezugssystems des Dienstes je Pixel: die Stufe auf oder jenseits davon ist dabei</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="581"/>
        <source>To resolution</source>
        <translation>Bis Auflösung</translation>
    </message>
    <message>
        <location filename="../ui/dock.ui" line="591"/>
        <source>Finest ground resolution to export (e.g. 0.5 m per pixel), in the units of the service&apos;s coordinate system: the level at or beyond it is included</source>
        <translation>Feinste zu exportierende Bodenauflösung (z. B. 0,5 m je Pixel), in Einheiten des Koordinatenbezugssystems des Dienstes: die Stufe auf oder jenseits davon ist dabei</translation>
    </message>
</context>
<context>
    <name>ArcGISOfflineTilesProvider</name>
    <message>
        <location filename="../plugin/processing/provider.py" line="20"/>
        <source>ArcGIS Offline Tiles</source>
        <translation>ArcGIS Offline Tiles</translation>
    </message>
</context>
<context>
    <name>ConvertPackageAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="49"/>
        <source>Convert tile package</source>
        <translation>Kachelpaket konvertieren</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="52"/>
        <source>esri,arcgis,vtpk,tpkx,tpk,tile package,convert,merge,geopackage,mbtiles</source>
        <translation>esri,arcgis,vtpk,tpkx,tpk,Kachelpaket,konvertieren,zusammenführen,geopackage,mbtiles</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="53"/>
        <source>Converts an Esri tile package (.vtpk, .tpkx, .tpk, or the conf.xml of a cache folder) into a GeoPackage or MBTiles file that any QGIS and GDAL version can open. Tiles are copied as they are, never re-encoded (Esri&apos;s signature-less PNGs are repaired).

&lt;b&gt;Merging&lt;/b&gt;: list more packages in &lt;i&gt;Additional packages to merge&lt;/i&gt; to join the pieces of a split export into one file. All packages must share the tiling scheme; where two packages hold the same tile the first one wins and the duplicates are counted.

&lt;b&gt;Format&lt;/b&gt;: GeoPackage holds raster tiles of any tiling scheme (Web Mercator, geographic, State Plane…). MBTiles holds Web Mercator tiles only, and is the only choice for vector tiles. &lt;i&gt;Automatic&lt;/i&gt; picks MBTiles for vector packages and GeoPackage for raster packages. The output file&apos;s extension is set to match the format.

&lt;b&gt;What travels with the tiles&lt;/b&gt;: a vector package&apos;s MapLibre style, sprites and glyphs are written beside the MBTiles (&lt;i&gt;name&lt;/i&gt;.style/style.json, named in the MBTiles metadata) for MapLibre-based and field apps, and a QGIS layer definition (&lt;i&gt;name&lt;/i&gt;.qlr) that opens the file with its full style in any QGIS, with or without this plugin. The package&apos;s name, description, levels, tile format and extent go into the output&apos;s metadata.

&lt;b&gt;Sparse vector packages&lt;/b&gt;: Esri stores a vector tile only where it adds detail, and ArcGIS draws the nearest coarser tile, enlarged, everywhere else. MBTiles cannot say so, so the conversion writes a stand-in tile in each such place: the coarser tile&apos;s features cut to that place, down to the deepest level stored (identical stand-ins are stored once). TILE_COUNT counts the package&apos;s own tiles; the log gives the number of stand-ins.

&lt;b&gt;Batch mode and qgis_process&lt;/b&gt;: one package per row (INPUT); for a merge give the extra packages as ADDITIONAL_INPUTS, in qgis_process by repeating the argument: &lt;code&gt;qgis_process run arcgisofflinetiles:convertpackage --INPUT=a.tpkx --ADDITIONAL_INPUTS=b.tpkx --ADDITIONAL_INPUTS=c.tpkx --FORMAT=0 --OUTPUT=merged.gpkg&lt;/code&gt;.

Outputs: OUTPUT (the file written) and TILE_COUNT (tiles written).</source>
        <translation>Konvertiert ein Esri-Kachelpaket (.vtpk, .tpkx, .tpk oder die conf.xml eines Cache-Ordners) in eine GeoPackage- oder MBTiles-Datei, die jede QGIS- und GDAL-Version öffnen kann. Die Kacheln werden unverändert kopiert, nie neu kodiert (Esris PNGs ohne Signatur werden repariert).

&lt;b&gt;Zusammenführen&lt;/b&gt;: Führen Sie unter &lt;i&gt;Weitere zusammenzuführende Pakete&lt;/i&gt; weitere Pakete auf, um die Teile eines aufgeteilten Exports zu einer Datei zusammenzuführen. Alle Pakete müssen dasselbe Kachelschema haben; enthalten zwei Pakete dieselbe Kachel, gilt die des ersten Pakets, und die Duplikate werden gezählt.

&lt;b&gt;Format&lt;/b&gt;: GeoPackage nimmt Rasterkacheln jedes Kachelschemas auf (Web Mercator, geographisch, State Plane…). MBTiles nimmt nur Web-Mercator-Kacheln auf und ist die einzige Wahl für Vektorkacheln. &lt;i&gt;Automatisch&lt;/i&gt; wählt MBTiles für Vektorpakete und GeoPackage für Rasterpakete. Die Dateiendung der Ausgabedatei wird passend zum Format gesetzt.

&lt;b&gt;Was mit den Kacheln reist&lt;/b&gt;: MapLibre-Stil, Sprites und Glyphen eines Vektorpakets werden neben die MBTiles geschrieben (&lt;i&gt;name&lt;/i&gt;.style/style.json, in den MBTiles-Metadaten genannt), für MapLibre-basierte Apps und Feld-Apps, dazu eine QGIS-Layerdefinition (&lt;i&gt;name&lt;/i&gt;.qlr), die die Datei in jedem QGIS mit ihrem vollen Stil öffnet, mit oder ohne dieses Plugin. Name, Beschreibung, Stufen, Kachelformat und Ausdehnung des Pakets gehen in die Metadaten der Ausgabe.

&lt;b&gt;Dünn besetzte Vektorpakete&lt;/b&gt;: Esri speichert eine Vektorkachel nur dort, wo sie Details hinzufügt, und ArcGIS zeichnet überall sonst die nächste gröbere Kachel vergrößert. MBTiles kann das nicht ausdrücken, daher schreibt die Konvertierung an jede solche Stelle eine Ersatzkachel: die Objekte der gröberen Kachel, auf diese Stelle zugeschnitten, bis zur feinsten gespeicherten Stufe (gleiche Ersatzkacheln werden nur einmal gespeichert). TILE_COUNT zählt die eigenen Kacheln des Pakets; das Protokoll nennt die Zahl der Ersatzkacheln.

&lt;b&gt;Stapelverarbeitung und qgis_process&lt;/b&gt;: ein Paket je Zeile (INPUT); für eine Zusammenführung geben Sie die weiteren Pakete als ADDITIONAL_INPUTS an, in qgis_process durch Wiederholen des Arguments: &lt;code&gt;qgis_process run arcgisofflinetiles:convertpackage --INPUT=a.tpkx --ADDITIONAL_INPUTS=b.tpkx --ADDITIONAL_INPUTS=c.tpkx --FORMAT=0 --OUTPUT=merged.gpkg&lt;/code&gt;.

Ausgaben: OUTPUT (die geschriebene Datei) und TILE_COUNT (geschriebene Kacheln).</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="73"/>
        <source>Tile package</source>
        <translation>Kachelpaket</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="76"/>
        <source>Additional packages to merge</source>
        <translation>Weitere zusammenzuführende Pakete</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="79"/>
        <source>Output format</source>
        <translation>Ausgabeformat</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="79"/>
        <source>GeoPackage</source>
        <translation>GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="79"/>
        <source>MBTiles</source>
        <translation>MBTiles</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="79"/>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="82"/>
        <source>Converted tiles</source>
        <translation>Konvertierte Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="82"/>
        <source>GeoPackage (*.gpkg);;MBTiles (*.mbtiles)</source>
        <translation>GeoPackage (*.gpkg);;MBTiles (*.mbtiles)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="84"/>
        <source>Tiles written</source>
        <translation>Geschriebene Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="85"/>
        <source>Duplicate tiles skipped</source>
        <translation>Übersprungene doppelte Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="86"/>
        <source>Format written</source>
        <translation>Geschriebenes Format</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="101"/>
        <source>No output file was given.</source>
        <translation>Es wurde keine Ausgabedatei angegeben.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="121"/>
        <source>Writing {format} needs the {suffix} extension: the output is {path}</source>
        <translation>Zum Schreiben von {format} ist die Endung {suffix} nötig: die Ausgabe ist {path}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="124"/>
        <source>Merging {n} packages into {path}</source>
        <translation>Führe {n} Pakete zu {path} zusammen</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="126"/>
        <source>Converting {src} into {path}</source>
        <translation>Konvertiere {src} in {path}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="137"/>
        <source>The conversion was cancelled; no file was written.</source>
        <translation>Die Konvertierung wurde abgebrochen; es wurde keine Datei geschrieben.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="143"/>
        <source>Level {level}: {count} tiles</source>
        <translation>Stufe {level}: {count} Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="144"/>
        <source>{tiles} tiles written ({duplicates} duplicates skipped) in {seconds:.1f} s</source>
        <translation>{tiles} Kacheln geschrieben ({duplicates} Duplikate übersprungen) in {seconds:.1f} s</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/convert_package.py" line="159"/>
        <source>{count} stand-in tiles written where the package draws a coarser tile enlarged ({seconds:.1f} s)</source>
        <translation>{count} Ersatzkacheln geschrieben, wo das Paket eine gröbere Kachel vergrößert zeichnet ({seconds:.1f} s)</translation>
    </message>
</context>
<context>
    <name>EstimateTilesAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="31"/>
        <source>Estimate tiles of an ArcGIS export</source>
        <translation>Kacheln eines ArcGIS-Exports schätzen</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="55"/>
        <source>Also ask the server for its size estimate (map/image services)</source>
        <translation>Auch den Server nach seiner Größenschätzung fragen (Karten-/Bilddienste)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="58"/>
        <source>Estimate (JSON)</source>
        <translation>Schätzung (JSON)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="58"/>
        <source>JSON files (*.json)</source>
        <translation>JSON-Dateien (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="61"/>
        <source>Total tiles</source>
        <translation>Kacheln insgesamt</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="61"/>
        <source>Parts needed</source>
        <translation>Benötigte Teile</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="61"/>
        <source>Server tile limit per server job</source>
        <translation>Kachellimit des Servers je Serverauftrag</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="61"/>
        <source>Server estimate: bytes</source>
        <translation>Serverschätzung: Bytes</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="61"/>
        <source>Server estimate: tiles</source>
        <translation>Serverschätzung: Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="89"/>
        <source>Vector tile services have no server estimate; the exact counts are given.</source>
        <translation>Vektorkacheldienste bieten keine Serverschätzung; die genauen Zahlen werden ausgegeben.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="92"/>
        <source>Asking the server for its estimate…</source>
        <translation>Frage den Server nach seiner Schätzung…</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="112"/>
        <source>Level {level} (1:{scale:,.0f}): {tiles:,} tiles</source>
        <translation>Stufe {level} (1:{scale:,.0f}): {tiles:,} Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="118"/>
        <source>Total: {total:,} tiles, {parts} part(s)</source>
        <translation>Insgesamt: {total:,} Kacheln; Teile: {parts}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="32"/>
        <source>Counts exactly how many tiles an export from the service at SERVICE_URL (AUTHCFG for a secured one) would hold at each level, for polygons (AREA: all features or the selected ones; supersedes EXTENT), an EXTENT or the service&apos;s full extent, and how many parts the server&apos;s tile limit requires. For map and image services it can also ask the server for its own size estimate (SERVER_ESTIMATE), which runs as a job on the server.

Levels come from LEVELS (e.g. 0-5,7), else from MIN_SCALE/MAX_SCALE (a scale between two levels takes the coarser level for the minimum and the finer one for the maximum; bounds given the wrong way round are swapped), else from COARSEST_RESOLUTION/FINEST_RESOLUTION (ground resolution in the service CRS&apos;s units per pixel, e.g. metres, by the same rule), else every level the service caches.

OUTPUT is a JSON file: {service, area, levels: [{level, scale, resolution, tiles}], total, max_export_tiles, jobs_needed (the parts), server_estimate}; area says what was counted (an extent, the polygon features or the full extent). The output values are TOTAL, JOBS_NEEDED (the parts needed; the name stays for models and scripts), MAX_EXPORT_TILES, SERVER_TOTAL_BYTES, SERVER_TOTAL_TILES and LEVEL_TILES (the tiles per level as a JSON object, e.g. {&quot;0&quot;: 1, &quot;1&quot;: 4}). Cancelling while the server estimates cancels its job.</source>
        <translation>Zählt genau, wie viele Kacheln ein Export aus dem Dienst unter SERVICE_URL (AUTHCFG für einen gesicherten) auf jeder Stufe enthielte, für Polygone (AREA: alle Objekte oder die gewählten; hat Vorrang vor EXTENT), eine Ausdehnung EXTENT oder die volle Ausdehnung des Dienstes, und wie viele Teile das Kachellimit des Servers erfordert. Bei Karten- und Bilddiensten kann es den Server zusätzlich nach seiner eigenen Größenschätzung fragen (SERVER_ESTIMATE), die als Auftrag auf dem Server läuft.

Die Stufen kommen aus LEVELS (z. B. 0-5,7), sonst aus MIN_SCALE/MAX_SCALE (ein Maßstab zwischen zwei Stufen nimmt beim Minimum die gröbere, beim Maximum die feinere Stufe; vertauschte Grenzen werden getauscht), sonst aus COARSEST_RESOLUTION/FINEST_RESOLUTION (Bodenauflösung in Einheiten des Dienst-KBS je Pixel, z. B. Meter, nach derselben Regel), sonst alle Stufen, die der Dienst vorhält.

OUTPUT ist eine JSON-Datei: {service, area, levels: [{level, scale, resolution, tiles}], total, max_export_tiles, jobs_needed (die Teile), server_estimate}; area sagt, was gezählt wurde (eine Ausdehnung, die Polygonobjekte oder die volle Ausdehnung). Die Ausgabewerte sind TOTAL, JOBS_NEEDED (die nötigen Teile; der Name bleibt für Modelle und Skripte), MAX_EXPORT_TILES, SERVER_TOTAL_BYTES, SERVER_TOTAL_TILES und LEVEL_TILES (die Kacheln je Stufe als JSON-Objekt, z. B. {&quot;0&quot;: 1, &quot;1&quot;: 4}). Ein Abbruch während der Serverschätzung bricht deren Auftrag ab.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/estimate_tiles.py" line="66"/>
        <source>Tiles per level (JSON)</source>
        <translation>Kacheln je Stufe (JSON)</translation>
    </message>
</context>
<context>
    <name>ExportTilesAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="43"/>
        <source>Export tiles from an ArcGIS service</source>
        <translation>Kacheln aus einem ArcGIS-Dienst exportieren</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="73"/>
        <source>Package format (map and image services)</source>
        <translation>Paketformat (Karten- und Bilddienste)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="73"/>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="73"/>
        <source>Compact V2 (.tpkx)</source>
        <translation>Compact V2 (.tpkx)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="73"/>
        <source>Compact (.tpk)</source>
        <translation>Compact (.tpk)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="76"/>
        <source>Optimize JPEG tiles for size</source>
        <translation>JPEG-Kacheln auf Größe optimieren</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="78"/>
        <source>Compression quality (1–100, with optimize for size)</source>
        <translation>Kompressionsqualität (1–100, mit Größenoptimierung)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="81"/>
        <source>Split into parts when over the server&apos;s tile limit</source>
        <translation>In Teile aufteilen, wenn das Kachellimit des Servers überschritten wird</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="83"/>
        <source>Merge split exports into one file</source>
        <translation>Aufgeteilte Exporte zu einer Datei zusammenführen</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="85"/>
        <source>Tile package</source>
        <translation>Kachelpaket</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="85"/>
        <source>Tile packages (*.vtpk *.tpkx *.tpk);;GeoPackage (*.gpkg);;MBTiles (*.mbtiles)</source>
        <translation>Kachelpakete (*.vtpk *.tpkx *.tpk);;GeoPackage (*.gpkg);;MBTiles (*.mbtiles)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="88"/>
        <source>Output files</source>
        <translation>Ausgabedateien</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="89"/>
        <source>Tiles</source>
        <translation>Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="90"/>
        <source>Parts</source>
        <translation>Teile</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="162"/>
        <source>Exported {tiles:,} tiles in {parts} part(s): {files}</source>
        <translation>{tiles:,} Kacheln exportiert (Teile: {parts}): {files}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="155"/>
        <source>Merging {n} package(s) into {name}…</source>
        <translation>Führe {n} Paket(e) zu {name} zusammen…</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="168"/>
        <source>{n} duplicate tile(s) skipped while merging</source>
        <translation>{n} doppelte Kachel(n) beim Zusammenführen übersprungen</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="48"/>
        <source>Asks an ArcGIS tiled service at SERVICE_URL (vector tile service, tiled map service or tiled image service, on ArcGIS Enterprise or ArcGIS Online; AUTHCFG signs in to a secured one) to cut a tile package for an area with its exportTiles operation, waits for the server job and downloads the package (.vtpk for vector services, .tpkx or .tpk for map and image services).

AREA (polygons; all features or only the selected ones) supersedes EXTENT; with neither, the service&apos;s full extent is exported. Levels come from LEVELS (e.g. 0-5,7), else from MIN_SCALE/MAX_SCALE, else from COARSEST_RESOLUTION/FINEST_RESOLUTION (ground resolution in the service CRS&apos;s units per pixel, e.g. metres: a bound between two levels takes the level beyond it, so the levels cover the range; bounds given the wrong way round are swapped), else every level the service caches.

FORMAT: automatic (.tpkx when the server supports it, else .tpk), tpkx or tpk; vector services always give .vtpk. OPTIMIZE_FOR_SIZE recompresses JPEG tiles at COMPRESSION_QUALITY (never above the service&apos;s own quality).

OUTPUT_KIND (map and image services): tile package (default), or tile cache (folder): the server&apos;s cache raster dataset (tilePackage=false), a folder with conf.xml, conf.cdi and _alllayers that ArcGIS Pro and GDAL open as a raster, stored as FORMAT says (Compact V2 for tpkx, Compact V1 for tpk). The folder is OUTPUT without its package suffix (…/basemap.tpkx → …/basemap); split parts are folders …_partNNofMM and MERGE merges them tile by tile into that folder. Vector tile services export packages only.

SPLIT (default on) splits an export that exceeds the server&apos;s tile limit into parts, one server job each (packages named …_partNNofMM); MERGE merges their packages into one GeoPackage (raster) or MBTiles (vector) file next to OUTPUT. An OUTPUT ending in .gpkg or .mbtiles always gives that converted file, even for a single package (the package is kept next to it). An export never overwrites an earlier one: when a file of OUTPUT&apos;s name exists, it takes …name (2) and says so in the log (the dock does the same). Cancelling cancels the server job; an export that fails or is stopped during its download is kept in the plugin&apos;s list of exports, where it can be resumed.

Outputs: OUTPUT (the package or tile cache folder, or the merged/converted file; the first one of a split export without MERGE), OUTPUT_FILES (every file, the merged/converted one first, separated by &apos;;&apos;), TILE_COUNT and JOB_COUNT (the number of parts; the name stays for models and scripts).</source>
        <translation>Bittet einen gekachelten ArcGIS-Dienst unter SERVICE_URL (Vektorkacheldienst, gekachelter Kartendienst oder gekachelter Bilddienst, auf ArcGIS Enterprise oder ArcGIS Online; AUTHCFG meldet sich bei einem gesicherten an), mit seiner Operation exportTiles ein Kachelpaket für ein Gebiet zu schneiden, wartet auf den Serverauftrag und lädt das Paket herunter (.vtpk für Vektordienste, .tpkx oder .tpk für Karten- und Bilddienste).

AREA (Polygone; alle Objekte oder nur die gewählten) hat Vorrang vor EXTENT; ohne beide wird die volle Ausdehnung des Dienstes exportiert. Die Stufen kommen aus LEVELS (z. B. 0-5,7), sonst aus MIN_SCALE/MAX_SCALE, sonst aus COARSEST_RESOLUTION/FINEST_RESOLUTION (Bodenauflösung in Einheiten des Dienst-KBS je Pixel, z. B. Meter: eine Grenze zwischen zwei Stufen nimmt die Stufe jenseits davon, sodass die Stufen den Bereich abdecken; vertauschte Grenzen werden getauscht), sonst alle Stufen, die der Dienst vorhält.

FORMAT: automatisch (.tpkx, wenn der Server es unterstützt, sonst .tpk), tpkx oder tpk; Vektordienste liefern immer .vtpk. OPTIMIZE_FOR_SIZE komprimiert JPEG-Kacheln neu mit COMPRESSION_QUALITY (nie über der Qualität des Dienstes).

OUTPUT_KIND (Karten- und Bilddienste): Kachelpaket (Standard) oder Kachel-Cache (Ordner): das Cache-Raster-Dataset des Servers (tilePackage=false), ein Ordner mit conf.xml, conf.cdi und _alllayers, den ArcGIS Pro und GDAL als Raster öffnen, gespeichert wie FORMAT es sagt (Compact V2 für tpkx, Compact V1 für tpk). Der Ordner ist OUTPUT ohne die Paketendung (…/basemap.tpkx → …/basemap); aufgeteilte Teile sind Ordner …_partNNofMM, und MERGE führt sie Kachel für Kachel in diesem Ordner zusammen. Vektorkacheldienste exportieren nur Pakete.

SPLIT (standardmäßig an) teilt einen Export, der das Kachellimit des Servers überschreitet, in Teile, je Teil ein Serverauftrag (Pakete namens …_partNNofMM); MERGE führt ihre Pakete zu einer GeoPackage- (Raster) oder MBTiles-Datei (Vektor) neben OUTPUT zusammen. Ein OUTPUT, das auf .gpkg oder .mbtiles endet, liefert immer diese konvertierte Datei, auch für ein einzelnes Paket (das Paket bleibt daneben erhalten). Ein Export überschreibt nie einen früheren: gibt es schon eine Datei mit dem Namen von OUTPUT, nimmt er …name (2) und sagt das im Protokoll (das Dock macht es genauso). Ein Abbruch bricht den Serverauftrag ab; ein Export, der fehlschlägt oder während seines Downloads gestoppt wird, bleibt in der Exportliste des Plugins, wo er fortgesetzt werden kann.

Ausgaben: OUTPUT (das Paket oder der Kachel-Cache-Ordner oder die zusammengeführte/konvertierte Datei; bei einem aufgeteilten Export ohne MERGE das erste), OUTPUT_FILES (alle Dateien, die zusammengeführte/konvertierte zuerst, durch &apos;;&apos; getrennt), TILE_COUNT und JOB_COUNT (die Zahl der Teile; der Name bleibt für Modelle und Skripte).</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="89"/>
        <source>Output kind (map and image services)</source>
        <translation>Ausgabeart (Karten- und Bilddienste)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="89"/>
        <source>Tile cache (folder)</source>
        <translation>Kachel-Cache (Ordner)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="151"/>
        <source>What the export did is kept: resume it from the ArcGIS Offline Tiles panel&apos;s list of exports.</source>
        <translation>Was der Export bereits erledigt hat, bleibt erhalten: setzen Sie ihn in der Exportliste des Bedienfelds ArcGIS Offline Tiles fort.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="227"/>
        <source>{wanted} exists already; the export is saved as {chosen} (an export never overwrites one).</source>
        <translation>{wanted} existiert bereits; der Export wird als {chosen} gespeichert (ein Export überschreibt nie eine vorhandene Datei).</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/export_tiles.py" line="239"/>
        <source>Merging {n} tile caches into {name}…</source>
        <translation>Führe {n} Kachel-Caches zu {name} zusammen…</translation>
    </message>
</context>
<context>
    <name>PackageAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/__init__.py" line="43"/>
        <source>Tile packages</source>
        <translation>Kachelpakete</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/__init__.py" line="54"/>
        <source>No tile package was given.</source>
        <translation>Es wurde kein Kachelpaket angegeben.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/__init__.py" line="56"/>
        <source>The tile package {path} does not exist.</source>
        <translation>Das Kachelpaket {path} gibt es nicht.</translation>
    </message>
</context>
<context>
    <name>PackageInfoAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="33"/>
        <source>Tile package information</source>
        <translation>Kachelpaketinformationen</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="36"/>
        <source>esri,arcgis,vtpk,tpkx,tpk,tile package,levels,tiles,describe,info</source>
        <translation>esri,arcgis,vtpk,tpkx,tpk,Kachelpaket,Stufen,Kacheln,beschreiben,Info</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="38"/>
        <source>Describes an Esri tile package without opening it as a layer: its kind (vtpk, tpkx, tpk or cache folder), tiling scheme (coordinate system, origin, tile size, levels), the levels that hold tiles with their tile counts, row and column ranges, resolution and tile formats (counted over every tile from its first bytes, so a mixed cache shows each format), the data extent, whether a vector package carries a style, and the formats it can be converted to.

Input: a .vtpk, .tpkx or .tpk file, the conf.xml of an exploded cache folder, or a tar of one.
Output: a JSON file with the full description. The key numbers are also returned as outputs (TILE_COUNT, LEVEL_COUNT, MIN_LEVEL, MAX_LEVEL, KIND, CRS, VECTOR, HAS_STYLE), so models and qgis_process scripts can use them directly.</source>
        <translation>Beschreibt ein Esri-Kachelpaket, ohne es als Layer zu öffnen: seine Art (vtpk, tpkx, tpk oder Cache-Ordner), das Kachelschema (Koordinatenbezugssystem, Ursprung, Kachelgröße, Stufen), die Stufen mit Kacheln samt Kachelanzahl, Zeilen- und Spaltenbereich, Auflösung und Kachelformaten (über jede Kachel anhand ihrer ersten Bytes gezählt, sodass ein gemischter Cache jedes Format zeigt), die Datenausdehnung, ob ein Vektorpaket einen Stil mitbringt, und die Formate, in die es konvertiert werden kann.

Eingabe: eine .vtpk-, .tpkx- oder .tpk-Datei, die conf.xml eines Cache-Ordners im Exploded-Format oder ein tar-Archiv davon.
Ausgabe: eine JSON-Datei mit der vollständigen Beschreibung. Die wichtigsten Kennzahlen werden auch als Ausgaben geliefert (TILE_COUNT, LEVEL_COUNT, MIN_LEVEL, MAX_LEVEL, KIND, CRS, VECTOR, HAS_STYLE), sodass Modelle und qgis_process-Skripte sie direkt verwenden können.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="52"/>
        <source>Tile package</source>
        <translation>Kachelpaket</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="55"/>
        <source>Package description</source>
        <translation>Paketbeschreibung</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="55"/>
        <source>JSON files (*.json)</source>
        <translation>JSON-Dateien (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="58"/>
        <source>Package kind</source>
        <translation>Paketart</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="59"/>
        <source>Coordinate system</source>
        <translation>Koordinatenbezugssystem</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="60"/>
        <source>Vector tiles</source>
        <translation>Vektorkacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="61"/>
        <source>Has a style</source>
        <translation>Hat einen Stil</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="62"/>
        <source>Number of tiles</source>
        <translation>Anzahl der Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="63"/>
        <source>Number of levels with tiles</source>
        <translation>Anzahl der Stufen mit Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="64"/>
        <source>First level with tiles</source>
        <translation>Erste Stufe mit Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="65"/>
        <source>Last level with tiles</source>
        <translation>Letzte Stufe mit Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="73"/>
        <source>Reading {path}</source>
        <translation>Lese {path}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="82"/>
        <source>Level {level}: {tiles} tiles, rows {rows}, columns {cols}</source>
        <translation>Stufe {level}: {tiles} Kacheln, Zeilen {rows}, Spalten {cols}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/package_info.py" line="99"/>
        <source>The description could not be written to {path}: {error}</source>
        <translation>Die Beschreibung konnte nicht in {path} geschrieben werden: {error}</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <location filename="../plugin/gui/levels_model.py" line="69"/>
        <source>B</source>
        <translation>B</translation>
    </message>
</context>
<context>
    <name>ServiceAreaAlgorithm</name>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="69"/>
        <source>ArcGIS export</source>
        <translation>ArcGIS-Export</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="75"/>
        <source>ArcGIS tiled service URL (MapServer, ImageServer or VectorTileServer)</source>
        <translation>URL des gekachelten ArcGIS-Dienstes (MapServer, ImageServer oder VectorTileServer)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="77"/>
        <source>Authentication configuration</source>
        <translation>Authentifizierungskonfiguration</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="79"/>
        <source>Export extent (default: the service&apos;s full extent)</source>
        <translation>Exportausdehnung (Standard: die volle Ausdehnung des Dienstes)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="81"/>
        <source>Export area polygons (supersede the extent)</source>
        <translation>Polygone des Exportgebiets (haben Vorrang vor der Ausdehnung)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="84"/>
        <source>Levels, e.g. 0-5,7 (default: from the scales, else every level)</source>
        <translation>Stufen, z. B. 0-5,7 (Standard: aus den Maßstäben, sonst alle Stufen)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="86"/>
        <source>Smallest scale (coarsest), e.g. 5000000</source>
        <translation>Kleinster Maßstab (gröbster), z. B. 5000000</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="86"/>
        <source>Largest scale (finest), e.g. 10000</source>
        <translation>Größter Maßstab (feinster), z. B. 10000</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="96"/>
        <source>Give the URL of an ArcGIS tiled service.</source>
        <translation>Geben Sie die URL eines gekachelten ArcGIS-Dienstes an.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="123"/>
        <source>Service: {name} ({kind}, {crs}, levels {first}–{last})</source>
        <translation>Dienst: {name} ({kind}, {crs}, Stufen {first}–{last})</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="150"/>
        <source>{n} polygon feature(s)</source>
        <translation>{n} Polygonobjekt(e)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="158"/>
        <source>extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="161"/>
        <source>The service has no full extent: give an extent or an area.</source>
        <translation>Der Dienst hat keine volle Ausdehnung: geben Sie eine Ausdehnung oder ein Gebiet an.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="162"/>
        <source>No extent or area given: using the service&apos;s full extent.</source>
        <translation>Weder Ausdehnung noch Gebiet angegeben: verwende die volle Ausdehnung des Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="163"/>
        <source>full extent</source>
        <translation>volle Ausdehnung</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="142"/>
        <source>No feature of the area layer is selected: select the polygons to export, or untick “Selected features only”.</source>
        <translation>Kein Objekt des Gebietslayers ist gewählt: Wählen Sie die zu exportierenden Polygone oder entfernen Sie den Haken bei „Nur gewählte Objekte“.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="146"/>
        <source>The area layer has no polygon: choose a layer with polygons, or give an extent.</source>
        <translation>Der Gebietslayer hat kein Polygon: Wählen Sie einen Layer mit Polygonen oder geben Sie eine Ausdehnung an.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="87"/>
        <source>Coarsest resolution (service CRS units per pixel), e.g. 1000</source>
        <translation>Gröbste Auflösung (Einheiten des Dienst-KBS je Pixel), z. B. 1000</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="87"/>
        <source>Finest resolution (service CRS units per pixel), e.g. 0.5</source>
        <translation>Feinste Auflösung (Einheiten des Dienst-KBS je Pixel), z. B. 0.5</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="191"/>
        <source>Give the levels by scale (MIN_SCALE/MAX_SCALE) or by resolution (COARSEST_RESOLUTION/FINEST_RESOLUTION), not both.</source>
        <translation>Geben Sie die Stufen entweder über den Maßstab (MIN_SCALE/MAX_SCALE) oder über die Auflösung (COARSEST_RESOLUTION/FINEST_RESOLUTION) an, nicht beides.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms/service_area.py" line="201"/>
        <source>Levels {levels} by resolution: {coarse:.6g} to {fine:.6g} {unit} per pixel.</source>
        <translation>Stufen {levels} nach Auflösung: {coarse:.6g} bis {fine:.6g} {unit} je Pixel.</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <location filename="../plugin/core/auth.py" line="261"/>
        <source>The sign-in address {url} is not secure (http). The password was not sent. Use the https:// address of the server.</source>
        <translation>Die Anmeldeadresse {url} ist nicht sicher (http). Das Passwort wurde nicht gesendet. Verwenden Sie die https://-Adresse des Servers.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="67"/>
        <source>No ArcGIS service was found at {url}. Check the address (it should end in /MapServer, /ImageServer or /VectorTileServer).</source>
        <translation>Unter {url} wurde kein ArcGIS-Dienst gefunden. Prüfen Sie die Adresse (sie sollte auf /MapServer, /ImageServer oder /VectorTileServer enden).</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="79"/>
        <source>The service {name} does not allow tile export (exportTilesAllowed is false). Ask its administrator to enable it, or use an export-enabled copy of the service.</source>
        <translation>Der Dienst {name} erlaubt keinen Kachelexport (exportTilesAllowed ist false). Bitten Sie die Administration, ihn zu erlauben, oder verwenden Sie eine Kopie des Dienstes mit Exporterlaubnis.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="92"/>
        <source>The service needs you to sign in. Choose an authentication configuration with your ArcGIS user name and password, token or API key, then try again.</source>
        <translation>Der Dienst verlangt eine Anmeldung. Wählen Sie eine Authentifizierungskonfiguration mit Ihrem ArcGIS-Benutzernamen und Passwort, Token oder API-Schlüssel und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="98"/>
        <source>The server refused the credentials ({reason}). Check the user name and password or the token in your authentication configuration, then try again.</source>
        <translation>Der Server hat die Anmeldedaten abgelehnt ({reason}). Prüfen Sie Benutzername und Passwort oder das Token in Ihrer Authentifizierungskonfiguration und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="111"/>
        <source>The export needs {count} tiles but the server allows at most {limit} per server job. Choose fewer levels or a smaller area, or let the plugin split the export.</source>
        <translation>Der Export braucht {count} Kacheln, der Server erlaubt aber höchstens {limit} je Serverauftrag. Wählen Sie weniger Stufen oder ein kleineres Gebiet, oder lassen Sie das Plugin den Export aufteilen.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="136"/>
        <source>The server no longer knows the export job {job_id} (jobs are deleted after a while). Start the export again; the area and settings are kept.</source>
        <translation>Der Server kennt den Exportauftrag {job_id} nicht mehr (Aufträge werden nach einer Weile gelöscht). Starten Sie den Export neu; Gebiet und Einstellungen bleiben erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="142"/>
        <source>The export job did not finish in time ({reason}). The server job is kept; you can resume it later or retry with fewer tiles.</source>
        <translation>Der Exportauftrag wurde nicht rechtzeitig fertig ({reason}). Der Serverauftrag bleibt erhalten; Sie können ihn später fortsetzen oder es mit weniger Kacheln erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="161"/>
        <source>The server could not be reached ({reason}). Check the network connection and proxy settings, then retry; finished work is kept.</source>
        <translation>Der Server war nicht erreichbar ({reason}). Prüfen Sie die Netzwerkverbindung und die Proxy-Einstellungen und versuchen Sie es erneut; bereits Erledigtes bleibt erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="167"/>
        <source>The server answered with an error ({reason}). Retry later; finished work is kept.</source>
        <translation>Der Server hat mit einem Fehler geantwortet ({reason}). Versuchen Sie es später erneut; bereits Erledigtes bleibt erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/core/export.py" line="215"/>
        <source>The export area lies outside the service&apos;s extent, so no tile would be exported. Check that the area is where the data is and in the right coordinate system.</source>
        <translation>Das Exportgebiet liegt außerhalb der Ausdehnung des Dienstes, es würde also keine Kachel exportiert. Prüfen Sie, ob das Gebiet dort liegt, wo die Daten sind, und im richtigen Koordinatenbezugssystem.</translation>
    </message>
    <message>
        <location filename="../plugin/core/http.py" line="257"/>
        <source>The secure connection to {host} could not be verified ({reason}). If your organisation uses its own certificate authority, add it in QGIS (Settings &gt; Options &gt; Authentication &gt; Certificate Manager), then retry.</source>
        <translation>Die sichere Verbindung zu {host} konnte nicht überprüft werden ({reason}). Wenn Ihre Organisation eine eigene Zertifizierungsstelle verwendet, fügen Sie sie in QGIS hinzu (Einstellungen &gt; Optionen &gt; Authentifizierung &gt; Zertifikatsverwaltung) und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/http.py" line="456"/>
        <source>{url} answered with a web page instead of ArcGIS REST JSON. Use the address of the service's REST endpoint (…/rest/services/…/MapServer); if it is a sign-in page, choose an authentication configuration.</source>
        <translation>{url} hat mit einer Webseite statt mit ArcGIS-REST-JSON geantwortet. Verwenden Sie die Adresse des REST-Endpunkts des Dienstes (…/rest/services/…/MapServer); ist es eine Anmeldeseite, wählen Sie eine Authentifizierungskonfiguration.</translation>
    </message>
    <message>
        <location filename="../plugin/core/service.py" line="83"/>
        <source>{url} is an ArcGIS item page, not a service address; the service address must be looked up from the item first.</source>
        <translation>{url} ist eine ArcGIS-Elementseite, keine Dienstadresse; die Dienstadresse muss zuerst aus dem Element ermittelt werden.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/areas.py" line="34"/>
        <source>The export area is empty. Draw an area, choose features or use an extent, then try again.</source>
        <translation>Das Exportgebiet ist leer. Zeichnen Sie ein Gebiet, wählen Sie Objekte oder verwenden Sie eine Ausdehnung und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/crs.py" line="63"/>
        <source>The area lies outside the region the service&apos;s coordinate system covers ({crs}). Draw it again inside the service&apos;s extent.</source>
        <translation>Das Gebiet liegt außerhalb der Region, die das Koordinatenbezugssystem des Dienstes abdeckt ({crs}). Zeichnen Sie es innerhalb der Ausdehnung des Dienstes neu.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="361"/>
        <source>Opening the package was cancelled.</source>
        <translation>Das Öffnen des Pakets wurde abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/base.py" line="33"/>
        <source>The task was cancelled.</source>
        <translation>Die Aufgabe wurde abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks/base.py" line="44"/>
        <source>An unexpected error occurred (a bug); please report it with the log.</source>
        <translation>Ein unerwarteter Fehler ist aufgetreten (ein Programmfehler); bitte melden Sie ihn mit dem Protokoll.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="172"/>
        <source>The file could not be written ({reason}). Free some disk space or choose another folder, then retry; what was already downloaded is kept.</source>
        <translation>Die Datei konnte nicht geschrieben werden ({reason}). Schaffen Sie Speicherplatz oder wählen Sie einen anderen Ordner und versuchen Sie es erneut; bereits Heruntergeladenes bleibt erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="35"/>
        <source>Something went wrong. Try again; if it happens again, report it with the details from the log.</source>
        <translation>Etwas ist schiefgegangen. Versuchen Sie es erneut; wenn es wieder passiert, melden Sie es mit den Details aus dem Protokoll.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="61"/>
        <source>The service could not be used: {reason}. Check the service address, then try again; if it keeps failing, ask the service&apos;s administrator.</source>
        <translation>Der Dienst konnte nicht verwendet werden: {reason}. Prüfen Sie die Adresse des Dienstes und versuchen Sie es erneut; wenn es weiter fehlschlägt, fragen Sie die Administration des Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="73"/>
        <source>{url} is not a tiled ArcGIS service ({reason}). Only cached map services, tiled image services and vector tile services can export tiles; use the address of one of those.</source>
        <translation>{url} ist kein gekachelter ArcGIS-Dienst ({reason}). Nur zwischengespeicherte Kartendienste, gekachelte Bilddienste und Vektorkacheldienste können Kacheln exportieren; verwenden Sie die Adresse eines solchen Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="86"/>
        <source>Signing in failed: {reason}. Check the authentication configuration (user name and password, token or API key), then try again.</source>
        <translation>Die Anmeldung ist fehlgeschlagen: {reason}. Prüfen Sie die Authentifizierungskonfiguration (Benutzername und Passwort, Token oder API-Schlüssel) und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="105"/>
        <source>The export request is not valid: {reason}. Change the area, levels or options accordingly, then try again.</source>
        <translation>Die Exportanfrage ist ungültig: {reason}. Ändern Sie Gebiet, Stufen oder Optionen entsprechend und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="117"/>
        <source>The export job failed on the server: {reason}. Try again later; if it fails again, export fewer levels or a smaller area, or ask the service&apos;s administrator.</source>
        <translation>Der Exportauftrag ist auf dem Server fehlgeschlagen: {reason}. Versuchen Sie es später erneut; wenn er wieder fehlschlägt, exportieren Sie weniger Stufen oder ein kleineres Gebiet, oder fragen Sie die Administration des Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="130"/>
        <source>The server cancelled the export job ({reason}), perhaps because it was restarted or an administrator stopped it. Start the export again; the area and settings are kept.</source>
        <translation>Der Server hat den Exportauftrag abgebrochen ({reason}), vielleicht weil er neu gestartet wurde oder eine Administratorin ihn beendet hat. Starten Sie den Export erneut; Gebiet und Einstellungen bleiben erhalten.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="150"/>
        <source>The server gave up on the export job because it ran too long ({reason}). Export fewer levels or a smaller area per job, or retry later when the server is less busy.</source>
        <translation>Der Server hat den Exportauftrag aufgegeben, weil er zu lange lief ({reason}). Exportieren Sie weniger Stufen oder ein kleineres Gebiet je Auftrag, oder versuchen Sie es später, wenn der Server weniger ausgelastet ist.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="156"/>
        <source>The export was cancelled. Start it again when you need the tiles.</source>
        <translation>Der Export wurde abgebrochen. Starten Sie ihn erneut, wenn Sie die Kacheln brauchen.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="178"/>
        <source>The tile package {path} cannot be read: {reason}. Export or download it again, or choose another package.</source>
        <translation>Das Kachelpaket {path} kann nicht gelesen werden: {reason}. Exportieren oder laden Sie es erneut herunter, oder wählen Sie ein anderes Paket.</translation>
    </message>
    <message>
        <location filename="../plugin/core/export.py" line="206"/>
        <source>The area's outline crosses itself, so the server could read it differently from the tile count shown here. Redraw the area, or repair it with Processing Toolbox ▸ Vector geometry ▸ Fix geometries, then try again.</source>
        <translation>Der Umriss des Gebiets kreuzt sich selbst, sodass der Server ihn anders lesen könnte als die hier gezeigte Kachelzahl. Zeichnen Sie das Gebiet neu oder reparieren Sie es mit Verarbeitungswerkzeuge ▸ Vektorgeometrie ▸ Geometrien reparieren und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="93"/>
        <source>The vector tile package {path} cannot be opened in QGIS {running}: its tiles are laid out in {crs}, not on the Web Mercator grid, so no conversion can hold them (MBTiles is Web Mercator only, GeoPackage has no vector tiles) and QGIS reads such packages only natively, from version 3.32 on. Open it in QGIS 3.32 or newer.</source>
        <translation>Das Vektorkachelpaket {path} kann in QGIS {running} nicht geöffnet werden: Seine Kacheln liegen in {crs}, nicht im Web-Mercator-Raster, daher kann keine Konvertierung sie aufnehmen (MBTiles ist nur Web Mercator, GeoPackage hat keine Vektorkacheln), und QGIS liest solche Pakete nur nativ, ab Version 3.32. Öffnen Sie es in QGIS 3.32 oder neuer.</translation>
    </message>
    <message>
        <location filename="../plugin/qgis_glue/layers.py" line="100"/>
        <source>The vector tile package {path} cannot be opened: its tiles are laid out in {crs}, not on the Web Mercator grid, so QGIS opens it only natively, from the zipped .vtpk file, and {reason}. Open the original .vtpk file as it was exported.</source>
        <translation>Das Vektorkachelpaket {path} kann nicht geöffnet werden: Seine Kacheln liegen in {crs}, nicht im Web-Mercator-Raster, daher öffnet QGIS es nur nativ, aus der gezippten .vtpk-Datei, und {reason}. Öffnen Sie die ursprüngliche .vtpk-Datei, so wie sie exportiert wurde.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="194"/>
        <source>The proxy server needs a user name and password ({reason}). Enter them in QGIS under Settings &gt; Options &gt; Network &gt; Proxy (or ask your IT department for them), then retry.</source>
        <translation>Der Proxyserver verlangt einen Benutzernamen und ein Passwort ({reason}). Geben Sie sie in QGIS unter Einstellungen &gt; Optionen &gt; Netzwerk &gt; Proxy ein (oder fragen Sie Ihre IT-Abteilung danach) und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="202"/>
        <source>QGIS is set to use a SOCKS proxy, and reaching {host} through it needs the Python module PySocks, which this QGIS lacks. Install it (on Debian and Ubuntu the python3-socks package, elsewhere pip install PySocks in QGIS&apos;s Python), or choose an HTTP proxy in Settings &gt; Options &gt; Network, then retry.</source>
        <translation>QGIS ist auf einen SOCKS-Proxy eingestellt, und um {host} darüber zu erreichen, wird das Python-Modul PySocks gebraucht, das diesem QGIS fehlt. Installieren Sie es (unter Debian und Ubuntu das Paket python3-socks, sonst pip install PySocks im Python von QGIS) oder wählen Sie unter Einstellungen &gt; Optionen &gt; Netzwerk einen HTTP-Proxy und versuchen Sie es dann erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="212"/>
        <source>The server at {host} sent an answer larger than {limit} ({reason}), which no ArcGIS service document is. Check that the address is an ArcGIS REST endpoint; if it is, ask the service&apos;s administrator.</source>
        <translation>Der Server unter {host} hat eine Antwort gesendet, die größer als {limit} ist ({reason}); so groß ist kein ArcGIS-Dienstdokument. Prüfen Sie, ob die Adresse ein ArcGIS-REST-Endpunkt ist; wenn ja, fragen Sie die Administration des Dienstes.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="232"/>
        <source>The folder {folder} cannot take the package ({reason}). Choose another folder under Save to; nothing was sent to the server.</source>
        <translation>Der Ordner {folder} kann das Paket nicht aufnehmen ({reason}). Wählen Sie unter „Speichern unter“ einen anderen Ordner; an den Server wurde nichts gesendet.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="238"/>
        <source>The folder {folder} does not exist. Choose another folder under Save to; nothing was sent to the server.</source>
        <translation>Den Ordner {folder} gibt es nicht. Wählen Sie unter „Speichern unter“ einen anderen Ordner; an den Server wurde nichts gesendet.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="244"/>
        <source>The folder {folder} cannot be written to ({reason}). Choose a folder you can write to under Save to; nothing was sent to the server.</source>
        <translation>In den Ordner {folder} kann nicht geschrieben werden ({reason}). Wählen Sie unter „Speichern unter“ einen Ordner, in den Sie schreiben können; an den Server wurde nichts gesendet.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="250"/>
        <source>The folder {folder} has {free} free, but the export needs about {need}. Free some disk space there or choose another folder under Save to; nothing was sent to the server.</source>
        <translation>Im Ordner {folder} sind {free} frei, der Export braucht aber etwa {need}. Schaffen Sie dort Speicherplatz oder wählen Sie unter „Speichern unter“ einen anderen Ordner; an den Server wurde nichts gesendet.</translation>
    </message>
    <message>
        <location filename="../plugin/core/errors.py" line="258"/>
        <source>The export could not move to {folder} ({reason}). What it had downloaded is where it was; choose another folder, or resume it where it is.</source>
        <translation>Der Export konnte nicht nach {folder} verschoben werden ({reason}). Was er heruntergeladen hatte, liegt noch am alten Ort; wählen Sie einen anderen Ordner oder setzen Sie ihn dort fort, wo er ist.</translation>
    </message>
</context>
</TS>
