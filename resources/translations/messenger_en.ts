<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AppController</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="556"/>
        <source>Delete %n messages?</source>
        <translation>
            <numerusform>Delete %n message?</numerusform>
            <numerusform>Delete %n messages?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="806"/>
        <source>Offline — retrying in %n s</source>
        <translation>
            <numerusform>Offline — retrying in %n s</numerusform>
            <numerusform>Offline — retrying in %n s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="957"/>
        <source>%n new message(s)</source>
        <translation>
            <numerusform>%n new message</numerusform>
            <numerusform>%n new messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/chat.py" line="2419"/>
        <source>Forward %n messages</source>
        <translation>
            <numerusform>Forward %n message</numerusform>
            <numerusform>Forward %n messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/chat.py" line="2428"/>
        <source>Delete %n messages</source>
        <translation>
            <numerusform>Delete %n message</numerusform>
            <numerusform>Delete %n messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ForwardDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/forward.py" line="44"/>
        <source>Forward %n message(s)</source>
        <translation>
            <numerusform>Forward %n message</numerusform>
            <numerusform>Forward %n messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>GroupInfoDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="270"/>
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n member</numerusform>
            <numerusform>%n members</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/main_window.py" line="1144"/>
        <source>%n message(s) selected</source>
        <translation>
            <numerusform>%n message selected</numerusform>
            <numerusform>%n messages selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>NewGroupDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="158"/>
        <source>%n member(s) selected</source>
        <translation>
            <numerusform>%n member selected</numerusform>
            <numerusform>%n members selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SearchDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="260"/>
        <source>%n message(s) found</source>
        <translation>
            <numerusform>%n message found</numerusform>
            <numerusform>%n messages found</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SendFilesDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="64"/>
        <source>Send %n file(s)</source>
        <translation>
            <numerusform>Send %n file</numerusform>
            <numerusform>Send %n files</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/tray.py" line="88"/>
        <source>Messenger — %n unread message(s)</source>
        <translation>
            <numerusform>Messenger — %n unread message</numerusform>
            <numerusform>Messenger — %n unread messages</numerusform>
        </translation>
    </message>
</context>
</TS>
